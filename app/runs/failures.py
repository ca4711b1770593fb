"""The failures inbox: failed runs nobody redrove or dismissed yet, and redriving them.

Which runs failed comes from Temporal visibility (at most
``FLOWFORGE_FAILURES_MAX_RUNS`` of the newest); what is done about them from
PostgreSQL: a run is redriven once an indexed run has it as ``rerun_of``, and
dismissed once it has a row in ``run_dismissals``. The failing node and its
error come from each run's status query, a few runs at a time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from temporalio.client import Client, WorkflowExecution

from app.core.state import AppState
from app.db.crud.runs import dismissed_runs, rerun_runs
from app.runs.reading import snapshot, visibility_query
from app.runs.redrive import failing_node
from interpreter.contract import search_attributes as sa
from interpreter.contract.run import NodeError, RunStatus

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class FailedRun:
    """A failed run in the inbox: where it failed and why (None if no worker answered)."""

    run_id: str
    workflow_id: str | None
    started_at: datetime | None
    ended_at: datetime | None
    node_id: str | None
    error: NodeError | None


@dataclass(frozen=True)
class Inbox:
    """The failed runs still to deal with, and how many failed runs were looked at."""

    runs: list[FailedRun]
    examined: int
    truncated: bool


async def bounded(items: Sequence[T], limit: int, work: Callable[[T], Awaitable[R]]) -> list[R]:
    """``work`` on every item, at most ``limit`` at once, results in the items' order."""
    gate = asyncio.Semaphore(limit)

    async def one(item: T) -> R:
        async with gate:
            return await work(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


async def failure_inbox(
    *,
    client: Client,
    state: AppState,
    owner_id: uuid.UUID | None,
    workflow_id: uuid.UUID | None = None,
    since: datetime | None = None,
) -> Inbox:
    """The failed runs (of ``owner_id``; everyone's if None) not yet redriven or dismissed."""
    cap = state.settings.failures_max_runs
    query = visibility_query(
        workflow_id=workflow_id,
        status=RunStatus.FAILED,
        owner_id=owner_id,
        started_after=since,
    )
    executions: list[WorkflowExecution] = []
    async for execution in client.list_workflows(
        query, limit=cap + 1, page_size=min(cap + 1, 1000), rpc_timeout=state.temporal.rpc_timeout
    ):
        executions.append(execution)
    truncated = len(executions) > cap
    executions = executions[:cap]
    ids = [execution.id for execution in executions]
    async with state.sessions() as session:
        done = await rerun_runs(session=session, run_ids=ids)
        done |= await dismissed_runs(session=session, run_ids=ids)
    pending = [execution for execution in executions if execution.id not in done]

    async def read(execution: WorkflowExecution) -> FailedRun:
        snap = await snapshot(
            client.get_workflow_handle(execution.id), state.temporal.query_timeout
        )
        node = failing_node(snap) if snap is not None else None
        error = snap.error if snap is not None else None
        attrs = execution.typed_search_attributes
        return FailedRun(
            run_id=execution.id,
            workflow_id=attrs.get(sa.WORKFLOW_ID),
            started_at=execution.start_time,
            ended_at=execution.close_time,
            node_id=node,
            error=error,
        )

    runs = await bounded(pending, state.settings.redrive_concurrency, read)
    return Inbox(runs=runs, examined=len(executions), truncated=truncated)

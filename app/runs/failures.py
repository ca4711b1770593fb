"""The failures inbox: failed runs nobody redrove or dismissed yet, and redriving them.

Which runs failed comes from Temporal visibility (at most
``FLOWFORGE_FAILURES_MAX_RUNS`` of the newest); what is done about them from
PostgreSQL: a run is redriven once an indexed run has it as ``rerun_of``, and
dismissed once it has a row in ``run_dismissals``. The failing node and its
error: the failing node from the node stats in each run's memo when one
node failed (the status query otherwise), the errors of the first and latest
run of each group from their status query, a few runs at a time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from temporalio.client import Client, WorkflowExecution

from app.core.state import AppState
from app.db.crud.runs import dismissed_runs, rerun_runs
from app.runs.reading import list_runs, snapshot, visibility_query
from app.runs.redrive import failing_node
from interpreter.contract import search_attributes as sa
from interpreter.contract.client import NODE_STATS_MEMO
from interpreter.contract.run import NodeError, NodeStatus, RunStatus

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class FailedRun:
    """A failed run in the inbox: where it failed and why.

    ``node_id`` is None when no worker answered for a run whose memo does not
    tell; ``error`` is read only for the first and latest run of each group.
    """

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
    limit = state.settings.redrive_concurrency
    query = visibility_query(
        workflow_id=workflow_id,
        status=RunStatus.FAILED,
        owner_id=owner_id,
        started_after=since,
    )
    executions = await list_runs(
        client, query, limit=cap + 1, rpc_timeout=state.temporal.rpc_timeout
    )
    truncated = len(executions) > cap
    executions = executions[:cap]
    ids = [execution.id for execution in executions]
    async with state.sessions() as session:
        done = await rerun_runs(session=session, run_ids=ids)
        done |= await dismissed_runs(session=session, run_ids=ids)
    pending = [execution for execution in executions if execution.id not in done]

    wait = state.temporal.query_timeout

    async def read(run: FailedRun) -> FailedRun:
        snap = await snapshot(client.get_workflow_handle(run.run_id), wait)
        if snap is None:
            return run
        return replace(run, node_id=run.node_id or failing_node(snap), error=snap.error)

    # The memo's node stats name the failing node when one node failed; only
    # the others, and the first and latest run of each group (for their
    # errors), are asked for their state.
    runs = [await _from_visibility(execution) for execution in pending]

    async def reread(indexes: list[int]) -> None:
        fresh = await bounded([runs[index] for index in indexes], limit, read)
        for index, run in zip(indexes, fresh, strict=True):
            runs[index] = run

    await reread([index for index, run in enumerate(runs) if run.node_id is None])
    await reread(sorted(index for index in _group_ends(runs) if runs[index].error is None))
    return Inbox(runs=runs, examined=len(executions), truncated=truncated)


async def _from_visibility(execution: WorkflowExecution) -> FailedRun:
    """A failed run as its visibility record tells it (the failing node from its memo)."""
    attrs = execution.typed_search_attributes
    failed: list[str] = []
    try:
        stats = (await execution.memo()).get(NODE_STATS_MEMO)
    except Exception:  # a memo this API cannot decode: the status query tells instead
        stats = None
    if isinstance(stats, dict):
        failed = [
            node_id
            for node_id, entry in stats.items()
            if isinstance(entry, dict) and entry.get("s") == NodeStatus.FAILED.value
        ]
    return FailedRun(
        run_id=execution.id,
        workflow_id=attrs.get(sa.WORKFLOW_ID),
        started_at=execution.start_time,
        ended_at=execution.close_time,
        node_id=failed[0] if len(failed) == 1 else None,
        error=None,
    )


def _group_ends(runs: list[FailedRun]) -> set[int]:
    """Indexes of the oldest and newest run of each (workflow, node) group.

    Ties go as :func:`app.api.routes.failures.group_failures` breaks them (a
    stable sort, newest first): the first newest, the last oldest.
    """
    ends: dict[tuple[str | None, str | None], tuple[int, int]] = {}
    for index, run in enumerate(runs):
        key = (run.workflow_id, run.node_id)
        oldest, newest = ends.get(key, (index, index))
        if _ended(run) <= _ended(runs[oldest]):
            oldest = index
        if _ended(run) > _ended(runs[newest]):
            newest = index
        ends[key] = (oldest, newest)
    return {index for pair in ends.values() for index in pair}


def _ended(run: FailedRun) -> datetime:
    return run.ended_at or datetime.min.replace(tzinfo=UTC)

"""Reading runs: the list (Temporal visibility) and one run in detail."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.api.deps import CurrentUser, RunId, SessionDep, StateDep, TemporalDep
from app.api.pagination import Cursor, Page, PageSize, seal_token, unseal_token
from app.db.crud.runs import get_run_record, list_reruns
from app.db.models.user import Role
from app.runs.access import visible_run
from app.runs.attempts import node_counts, pending_attempts, with_attempts
from app.runs.ended import ended_error, settled_nodes
from app.runs.links import dashboard_url
from app.runs.reading import (
    list_page,
    run_input,
    snapshot,
    summary,
    summary_counts,
    trace_id,
    visibility_query,
)
from app.runs.schemas import RunDetail, RunSummary, RunTrigger
from app.runs.status import is_open, run_status
from app.runs.task_failure import stalled_error, task_failure
from interpreter.contract.run import RunStatus

router = APIRouter(prefix="/runs", tags=["runs"])


@router.get("")
async def list_runs(
    user: CurrentUser,
    state: StateDep,
    temporal: TemporalDep,
    limit: PageSize,
    cursor: Cursor = None,
    workflow_id: uuid.UUID | None = None,
    status: Annotated[
        list[RunStatus] | None, Query(max_length=8, description="Any of these statuses.")
    ] = None,
    owner_id: uuid.UUID | None = None,
    failed: Annotated[
        bool, Query(description="Only runs that failed, timed out or are suspended.")
    ] = False,
    trigger: RunTrigger | None = None,
    started_after: Annotated[datetime | None, Query(description="Started at or after.")] = None,
    started_before: Annotated[datetime | None, Query(description="Started before.")] = None,
) -> Page[RunSummary]:
    """Runs, newest first. Non-admins always see only their own (``owner_id`` is for admins).

    Filters combine (all must hold); ``status`` may be repeated (any of them).
    A ``cursor`` carries on the listing it came from: with other filters it is a 400.
    """
    query = visibility_query(
        workflow_id=workflow_id,
        status=status,
        owner_id=owner_id if user.role == Role.ADMIN else user.id,
        failed_only=failed,
        trigger=trigger,
        started_after=started_after,
        started_before=started_before,
    )
    key = state.cursor_key
    executions, token = await list_page(
        temporal,
        query,
        limit=limit,
        token=unseal_token(cursor, key=key, scope=query),
        rpc_timeout=state.temporal.rpc_timeout,
    )
    items = [summary(execution, state.settings) for execution in executions]
    for item, execution in zip(items, executions, strict=True):
        item.node_counts = await summary_counts(execution)
    return Page(
        items=items,
        next_cursor=seal_token(token, key=key, scope=query),
    )


@router.get("/{run_id}")
async def read_run(
    run_id: RunId,
    user: CurrentUser,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    request: Request,
) -> RunDetail:
    """One run: its status, input, output, error and every node's state.

    A node between two attempts reads ``retrying``, with ``attempts`` so far,
    ``last_error`` and ``next_attempt_at`` (from Temporal's pending activities).
    """
    description = await visible_run(temporal, state, run_id, user)
    handle = temporal.get_workflow_handle(run_id)
    snap, input_value, pending = await asyncio.gather(
        snapshot(handle, state.temporal.query_timeout),
        run_input(temporal, handle),
        pending_attempts(temporal, description),
    )
    record = await get_run_record(session=session, run_id=run_id)
    reruns = await list_reruns(session=session, run_id=run_id)
    shown = summary(description, state.settings)
    failure = None
    if snap is not None:
        shown.status = run_status(description.status, snap.status.value)
    elif is_open(shown.status):
        failure = await task_failure(temporal, description, state.temporal.rpc_timeout)
    nodes = settled_nodes(shown.status, with_attempts(snap.nodes, pending) if snap else [])
    shown.node_counts = node_counts(nodes) if snap else await summary_counts(description)
    return RunDetail(
        **shown.model_dump(),
        paused=snap.paused if snap else shown.status == RunStatus.PAUSED,
        suspended_on=snap.suspended_on if snap else None,
        dashboard_url=dashboard_url(state.settings, str(request.base_url), run_id),
        input=input_value,
        output=snap.output if snap else None,
        error=ended_error(shown.status, snap.error if snap else stalled_error(run_id, failure)),
        idempotency_key=record.idempotency_key if record else None,
        nodes=nodes,
        workflow_task_failure=failure,
        rerun_of=record.rerun_of if record else None,
        reruns=reruns,
        trace_id=await trace_id(description),
    )

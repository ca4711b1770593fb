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
from app.errors import ApiError
from app.plugins.pinning import pinned_plugins
from app.runs.access import is_expired_test, visible_run
from app.runs.attempts import node_counts, pending_attempts, with_attempts
from app.runs.ended import batch_nodes, ended_error, settled_nodes
from app.runs.links import dashboard_url
from app.runs.reading import (
    list_page,
    placed_arm,
    start_value,
    summary,
    summary_counts,
    trace_id,
    visibility_query,
)
from app.runs.schemas import PinnedDefinition, RunDetail, RunSummary, RunTrigger
from app.runs.snapshot_cache import run_snapshot
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
    test: Annotated[
        bool,
        Query(description="Only test runs (POST /workflows/test), which are otherwise left out."),
    ] = False,
) -> Page[RunSummary]:
    """Runs, newest first. Non-admins always see only their own (``owner_id`` is for admins).

    Filters combine (all must hold); ``status`` may be repeated (any of them).
    Test runs show only with ``test=true`` (or ``trigger=test``), and only
    within ``FLOWFORGE_TEST_RUN_RETENTION_SECONDS``.
    A ``cursor`` carries on the listing it came from: with other filters it is a 400.
    """
    test = test or trigger == RunTrigger.TEST
    query = visibility_query(
        workflow_id=workflow_id,
        status=status,
        owner_id=owner_id if user.role == Role.ADMIN else user.id,
        failed_only=failed,
        trigger=trigger,
        started_after=started_after,
        started_before=started_before,
        test=test,
    )
    key = state.cursor_key
    executions, token = await list_page(
        temporal,
        query,
        limit=limit,
        token=unseal_token(cursor, key=key, scope=query),
        rpc_timeout=state.temporal.rpc_timeout,
    )
    if test:
        # Past their retention, test runs are dropped from the page rather than kept out by
        # the query: a cutoff that moves with the clock would change the query, and so
        # void the cursor, between two pages. Newest first, they only shorten the last pages.
        executions = [e for e in executions if not is_expired_test(e, state.settings)]
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
    snap, started, pending = await asyncio.gather(
        run_snapshot(state.closed_snapshots, handle, description, state.temporal.query_timeout),
        start_value(temporal, handle),
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
    nodes = batch_nodes(shown, nodes)
    shown.node_counts = node_counts(nodes) if snap else await summary_counts(description)
    return RunDetail(
        **shown.model_dump(),
        paused=snap.paused if snap else shown.status == RunStatus.PAUSED,
        suspended_on=snap.suspended_on if snap else None,
        paused_before=snap.paused_before if snap else None,
        dashboard_url=dashboard_url(state.settings, str(request.base_url), run_id),
        input=(started or {}).get("input"),
        output=snap.output if snap else None,
        error=ended_error(shown.status, snap.error if snap else stalled_error(run_id, failure)),
        idempotency_key=record.idempotency_key if record else None,
        nodes=nodes,
        workflow_task_failure=failure,
        rerun_of=record.rerun_of if record else None,
        reruns=reruns,
        arm=record.arm if record else await placed_arm(description),
        plugins=pinned_plugins((started or {}).get("definition")),
        trace_id=await trace_id(description),
    )


@router.get("/{run_id}/definition")
async def read_definition(
    run_id: RunId, user: CurrentUser, state: StateDep, temporal: TemporalDep
) -> PinnedDefinition:
    """The definition the run executes, from its start input.

    Needs only the run id, so a page can ask for it together with
    ``GET /runs/{run_id}`` rather than after it; it is the pinned version's
    definition (a for_each batch: its loop node), as JSON, not validated again.
    """
    description = await visible_run(temporal, state, run_id, user)
    started = await start_value(temporal, temporal.get_workflow_handle(description.id))
    definition = started.get("definition") if started else None
    if not isinstance(definition, dict):
        raise ApiError(404, f"run {run_id} has no readable start input")
    return PinnedDefinition(run_id=description.id, definition=definition)

"""Reading runs: the list (Temporal visibility) and one run in detail."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter

from app.api.deps import CurrentUser, RunId, SessionDep, StateDep, TemporalDep
from app.api.pagination import Cursor, Page, PageSize, seal_token, unseal_token
from app.db.crud.runs import get_run_record
from app.db.models.user import Role
from app.runs.access import visible_run
from app.runs.reading import list_page, run_input, snapshot, summary, visibility_query
from app.runs.schemas import RunDetail, RunSummary
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
    status: RunStatus | None = None,
    owner_id: uuid.UUID | None = None,
) -> Page[RunSummary]:
    """Runs, newest first. Non-admins always see only their own (``owner_id`` is for admins)."""
    query = visibility_query(
        workflow_id=workflow_id,
        status=status,
        owner_id=owner_id if user.role == Role.ADMIN else user.id,
    )
    key = state.cursor_key
    executions, token = await list_page(
        temporal,
        query,
        limit=limit,
        token=unseal_token(cursor, key=key, scope=query),
        rpc_timeout=state.temporal.rpc_timeout,
    )
    return Page(
        items=[summary(execution, state.settings) for execution in executions],
        next_cursor=seal_token(token, key=key, scope=query),
    )


@router.get("/{run_id}")
async def read_run(
    run_id: RunId, user: CurrentUser, state: StateDep, session: SessionDep, temporal: TemporalDep
) -> RunDetail:
    """One run: its status, input, output, error and every node's state."""
    description = await visible_run(temporal, state, run_id, user)
    handle = temporal.get_workflow_handle(run_id)
    snap, input_value = await asyncio.gather(
        snapshot(handle, state.temporal.query_timeout), run_input(temporal, handle)
    )
    record = await get_run_record(session=session, run_id=run_id)
    shown = summary(description, state.settings)
    failure = None
    if snap is not None:
        shown.status = run_status(description.status, snap.status.value)
    elif is_open(shown.status):
        failure = await task_failure(temporal, description, state.temporal.rpc_timeout)
    return RunDetail(
        **shown.model_dump(),
        paused=snap.paused if snap else shown.status == RunStatus.PAUSED,
        input=input_value,
        output=snap.output if snap else None,
        error=snap.error if snap else stalled_error(run_id, failure),
        idempotency_key=record.idempotency_key if record else None,
        nodes=snap.nodes if snap else [],
        workflow_task_failure=failure,
    )

"""Schedules of a workflow's runs, kept as Temporal Schedules.

Runs are pinned to a version when the schedule is created (the active one
unless ``version`` is given) and again by every PATCH. Deleting the workflow
pauses its schedules.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from temporalio.client import (
    Client,
    ScheduleOverlapPolicy,
    ScheduleUpdateInput,
)
from temporalio.client import (
    ScheduleUpdate as TemporalUpdate,
)

from app.api.access import EditableWorkflow, ReadableWorkflow
from app.api.deps import CurrentUser, EditorUser, SessionDep, StateDep, TemporalDep
from app.api.pagination import Cursor, Page, PageSize, seal_token, unseal_token
from app.core.state import AppState
from app.db.crud.workflows import get_workflow
from app.db.models.user import User
from app.errors import ApiError, ErrorItem
from app.ownership import may_access
from app.runs.pinning import pinned_run_input
from app.runs.quotas import check_schedule_count
from app.triggers.schedule_errors import refused_spec
from app.triggers.schedule_rollout import with_rollout
from app.triggers.schedule_schemas import (
    ScheduleCreate,
    SchedulePublic,
    ScheduleTriggered,
    ScheduleUpdate,
)
from app.triggers.schedule_spec import too_frequent
from app.triggers.schedules import (
    ScheduleParams,
    build_schedule,
    describe_schedule,
    new_schedule_id,
    public,
    schedule_attributes,
    schedule_ids,
    workflow_query,
)

router = APIRouter(tags=["schedules"])

ScheduleId = Annotated[str, Path(min_length=1, max_length=200, description="The schedule id.")]


def _check_frequency(state: AppState, cron: str | None, interval: str | None) -> None:
    """Refuse a timing that fires more often than ``quota_min_schedule_interval`` (422)."""
    shortest = timedelta(seconds=state.settings.quota_min_schedule_interval)
    found = too_frequent(cron=cron, interval=interval, shortest=shortest, now=datetime.now(UTC))
    if found is not None:
        field, message = found
        raise ApiError(
            422,
            f"{field}: {message}",
            errors=[ErrorItem(path=f"/{field}", code="quota", message=message)],
        )


def _not_found(schedule_id: str) -> ApiError:
    return ApiError(404, f"schedule {schedule_id} not found")


async def _visible(client: Client, state: AppState, schedule_id: str, user: User) -> SchedulePublic:
    found = await describe_schedule(client, schedule_id, state.temporal.rpc_timeout)
    if found is None or not may_access(user, found[1].run.meta.owner):
        raise _not_found(schedule_id)
    return public(schedule_id, *found)


@router.post("/workflows/{workflow_id}/schedules", status_code=status.HTTP_201_CREATED)
async def create(
    workflow: EditableWorkflow,
    body: ScheduleCreate,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    user: EditorUser,
) -> SchedulePublic:
    """Start runs of the workflow on a cron expression or an interval.

    Refused with 422 if it would fire more often than the shortest allowed
    interval, and 409 if the workflow's owner has as many schedules as allowed.
    """
    _check_frequency(state, body.cron, body.interval)
    await check_schedule_count(
        client=temporal, session=session, state=state, owner_id=workflow.owner_id
    )
    run = await pinned_run_input(
        session=session,
        settings=state.settings,
        workflow=workflow,
        version=body.version,
        run_input=body.input,
        trigger="schedule",
    )
    pinned = body.version is not None
    run = await with_rollout(
        session=session, settings=state.settings, workflow=workflow, run=run, pinned=pinned
    )
    params = ScheduleParams(
        cron=body.cron,
        interval=body.interval,
        timezone=body.timezone or "UTC",
        overlap=body.overlap,
        paused=body.paused,
        run=run,
        pinned=pinned,
    )
    schedule_id = new_schedule_id()
    async with refused_spec():
        await temporal.create_schedule(
            schedule_id,
            build_schedule(
                schedule_id, params, state.settings.task_queue, state.settings.run_keys()
            ),
            search_attributes=schedule_attributes(run),
            rpc_timeout=state.temporal.rpc_timeout,
        )
    return await _visible(temporal, state, schedule_id, user)


@router.get("/workflows/{workflow_id}/schedules")
async def list_for_workflow(
    workflow: ReadableWorkflow,
    user: CurrentUser,
    state: StateDep,
    temporal: TemporalDep,
    limit: PageSize,
    cursor: Cursor = None,
) -> Page[SchedulePublic]:
    """The workflow's schedules.

    Temporal's list is eventually consistent: a schedule created a moment ago
    may take a moment to appear.
    """
    scope = workflow_query(workflow.id)
    ids, token = await schedule_ids(
        temporal,
        workflow.id,
        limit=limit,
        token=unseal_token(cursor, key=state.cursor_key, scope=scope),
        rpc_timeout=state.temporal.rpc_timeout,
    )
    items = []
    for schedule_id in ids:
        found = await describe_schedule(temporal, schedule_id, state.temporal.rpc_timeout)
        if found is not None and may_access(user, found[1].run.meta.owner):
            items.append(public(schedule_id, *found))
    return Page(items=items, next_cursor=seal_token(token, key=state.cursor_key, scope=scope))


@router.get("/schedules/{schedule_id}")
async def read(
    schedule_id: ScheduleId, user: CurrentUser, state: StateDep, temporal: TemporalDep
) -> SchedulePublic:
    """One schedule: its timing, pinned version, input, whether paused, next and recent runs."""
    return await _visible(temporal, state, schedule_id, user)


@router.patch("/schedules/{schedule_id}")
async def update(
    schedule_id: ScheduleId,
    body: ScheduleUpdate,
    user: EditorUser,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> SchedulePublic:
    """Change the timing, input, overlap policy or paused state; pins the runs again."""
    found = await describe_schedule(temporal, schedule_id, state.temporal.rpc_timeout)
    if found is None or not may_access(user, found[1].run.meta.owner):
        raise _not_found(schedule_id)
    old = found[1]
    workflow = await get_workflow(session=session, workflow_id=uuid.UUID(old.run.meta.workflow_id))
    if workflow is None:
        raise ApiError(409, f"the workflow of schedule {schedule_id} was deleted: delete it")
    run = await pinned_run_input(
        session=session,
        settings=state.settings,
        workflow=workflow,
        version=body.version,
        run_input=body.input if "input" in body.model_fields_set else old.run.input,
        trigger="schedule",
    )
    pinned = body.version is not None
    run = await with_rollout(
        session=session, settings=state.settings, workflow=workflow, run=run, pinned=pinned
    )
    timing_changed = body.cron is not None or body.interval is not None
    if timing_changed:
        _check_frequency(state, body.cron, body.interval)
    params = ScheduleParams(
        cron=body.cron if timing_changed else old.cron,
        interval=body.interval if timing_changed else old.interval,
        timezone=body.timezone or old.timezone,
        overlap=body.overlap or old.overlap,
        paused=old.paused if body.paused is None else body.paused,
        run=run,
        pinned=pinned,
    )
    schedule = build_schedule(
        schedule_id, params, state.settings.task_queue, state.settings.run_keys()
    )

    def replace(_: ScheduleUpdateInput) -> TemporalUpdate:
        return TemporalUpdate(schedule=schedule)

    async with refused_spec():
        await temporal.get_schedule_handle(schedule_id).update(
            replace, rpc_timeout=state.temporal.rpc_timeout
        )
    return await _visible(temporal, state, schedule_id, user)


@router.delete("/schedules/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(
    schedule_id: ScheduleId, user: EditorUser, state: StateDep, temporal: TemporalDep
) -> Response:
    """Delete the schedule; runs it started go on."""
    await _visible(temporal, state, schedule_id, user)
    await temporal.get_schedule_handle(schedule_id).delete(rpc_timeout=state.temporal.rpc_timeout)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/schedules/{schedule_id}/trigger", status_code=status.HTTP_202_ACCEPTED)
async def trigger(
    schedule_id: ScheduleId, user: EditorUser, state: StateDep, temporal: TemporalDep
) -> ScheduleTriggered:
    """Start a run now, even if the schedule is paused or a run is in flight."""
    await _visible(temporal, state, schedule_id, user)
    await temporal.get_schedule_handle(schedule_id).trigger(
        overlap=ScheduleOverlapPolicy.ALLOW_ALL, rpc_timeout=state.temporal.rpc_timeout
    )
    return ScheduleTriggered(schedule_id=schedule_id)

"""FlowForge schedules as Temporal Schedules: building, reading and finding them.

Temporal holds everything, so no table is needed: the schedule's search
attributes carry the workflow and owner (for lists and ownership checks),
its action carries the pinned :class:`RunInput`, and the action's memo keeps
the cron expression or interval as written (Temporal compiles a cron
expression into calendars and does not give it back), and whether the
version was named (``pinned``: no rollout applies then). While a rollout is
on, the action's input also carries the candidate arm (``RunInput.rollout``,
see :mod:`app.triggers.schedule_rollout`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    SchedulePolicy,
    ScheduleState,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from app.triggers.schedule_schemas import ScheduleArms, ScheduledRun, SchedulePublic
from app.triggers.schedule_spec import OVERLAP_NAMES, OVERLAP_POLICIES, Overlap, temporal_spec
from interpreter.contract import search_attributes as sa
from interpreter.contract.client import WORKFLOW_TYPE, execution_timeout, run_search_attributes
from interpreter.contract.run import RunInput
from interpreter.contract.signing import sign_run
from interpreter.run_proof import RunKeys

SCHEDULE_MEMO = "flowforge_schedule"
"""Memo key of every scheduled run: ``{schedule_id, cron, interval}``."""

_PREFIX = "sched-"


@dataclass
class ScheduleParams:
    """A schedule as FlowForge describes it."""

    cron: str | None
    interval: str | None
    timezone: str
    overlap: Overlap
    paused: bool
    run: RunInput
    pinned: bool = False


def new_schedule_id() -> str:
    """A fresh schedule id; its prefix tells FlowForge's schedules from any others."""
    return _PREFIX + uuid.uuid4().hex


def build_action(
    schedule_id: str, params: ScheduleParams, task_queue: str, keys: RunKeys
) -> ScheduleActionStartWorkflow:
    """The action that starts ``params.run`` (trigger ``schedule``).

    The action's input carries a proof for every id the schedule's runs get
    (``run-<schedule id>-<fire time>``), signed with ``keys``; so does its
    candidate arm, while it has one.
    """
    # Temporal appends the fire time, so every run still has an id of its own.
    action_id = f"run-{schedule_id}"
    run = sign_run(params.run, action_id, keys, prefix=True)
    if run.rollout is not None:
        candidate = sign_run(run.rollout.candidate, action_id, keys, prefix=True)
        run = run.model_copy(
            update={"rollout": run.rollout.model_copy(update={"candidate": candidate})}
        )
    return ScheduleActionStartWorkflow(
        WORKFLOW_TYPE,
        run,
        id=action_id,
        task_queue=task_queue,
        execution_timeout=execution_timeout(run),
        typed_search_attributes=run_search_attributes(run),
        memo={
            SCHEDULE_MEMO: {
                "schedule_id": schedule_id,
                "cron": params.cron,
                "interval": params.interval,
                "pinned": params.pinned,
            }
        },
        static_summary=f"{run.definition.name} v{run.meta.version} (schedule)",
    )


def build_schedule(
    schedule_id: str, params: ScheduleParams, task_queue: str, keys: RunKeys
) -> Schedule:
    """The Temporal Schedule whose action starts ``params.run`` (see :func:`build_action`)."""
    return Schedule(
        action=build_action(schedule_id, params, task_queue, keys),
        spec=temporal_spec(cron=params.cron, interval=params.interval, timezone=params.timezone),
        policy=SchedulePolicy(overlap=OVERLAP_POLICIES[params.overlap]),
        state=ScheduleState(paused=params.paused),
    )


def schedule_attributes(run: RunInput) -> TypedSearchAttributes:
    """What lists a schedule under its workflow and its owner."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(sa.WORKFLOW_ID, run.meta.workflow_id),
            SearchAttributePair(sa.OWNER, run.meta.owner),
        ]
    )


async def _decoded(client: Client, payload: Payload | Any) -> Any:
    values = await client.data_converter.decode([payload])
    return values[0] if values else None


async def read_params(client: Client, description: ScheduleDescription) -> ScheduleParams | None:
    """FlowForge's view of a described schedule; None if FlowForge did not make it."""
    schedule = description.schedule
    action = schedule.action
    if not isinstance(action, ScheduleActionStartWorkflow) or action.workflow != WORKFLOW_TYPE:
        return None
    raw_args: Sequence[Any] = action.args
    runs = await client.data_converter.decode(list(raw_args), [RunInput])
    memo_payload = (action.memo or {}).get(SCHEDULE_MEMO)
    memo = await _decoded(client, memo_payload) if memo_payload is not None else {}
    if not runs or not isinstance(runs[0], RunInput) or not isinstance(memo, dict):
        return None
    return ScheduleParams(
        cron=memo.get("cron"),
        interval=memo.get("interval"),
        timezone=schedule.spec.time_zone_name or "UTC",
        overlap=OVERLAP_NAMES.get(schedule.policy.overlap, "skip"),  # type: ignore[arg-type]
        paused=schedule.state.paused,
        run=runs[0],
        pinned=bool(memo.get("pinned", False)),
    )


def public(
    schedule_id: str, description: ScheduleDescription, params: ScheduleParams
) -> SchedulePublic:
    """The schedule as the API shows it; ``next_runs`` is empty while it is paused."""
    info = description.info
    meta = params.run.meta
    rollout = params.run.rollout
    return SchedulePublic(
        schedule_id=schedule_id,
        workflow_id=meta.workflow_id,
        owner_id=meta.owner,
        version=meta.version,
        cron=params.cron,
        interval=params.interval,
        timezone=params.timezone,
        input=params.run.input,
        paused=params.paused,
        overlap=params.overlap,
        next_runs=[] if params.paused else list(info.next_action_times),
        recent_runs=[
            ScheduledRun(
                run_id=action.action.workflow_id,
                scheduled_at=action.scheduled_at,
                started_at=action.started_at,
            )
            for action in info.recent_actions
            if isinstance(action.action, ScheduleActionExecutionStartWorkflow)
        ],
        created_at=info.created_at,
        updated_at=info.last_updated_at,
        pinned=params.pinned,
        rollout=None
        if rollout is None
        else ScheduleArms(
            candidate=rollout.candidate.meta.version,
            percent=rollout.percent,
            sticky_by=rollout.sticky_by,
        ),
    )


async def describe_schedule(
    client: Client, schedule_id: str, rpc_timeout: timedelta
) -> tuple[ScheduleDescription, ScheduleParams] | None:
    """The schedule and FlowForge's view of it; None if FlowForge has no schedule by that id."""
    if not schedule_id.startswith(_PREFIX):
        return None
    try:
        description = await client.get_schedule_handle(schedule_id).describe(
            rpc_timeout=rpc_timeout
        )
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            return None
        raise
    params = await read_params(client, description)
    return (description, params) if params is not None else None


def workflow_query(workflow_id: uuid.UUID) -> str:
    """The visibility query that finds the schedules of ``workflow_id``."""
    # Only a UUID is interpolated: nothing can inject query syntax.
    return f"{sa.WORKFLOW_ID.name} = '{workflow_id}'"


async def schedule_ids(
    client: Client,
    workflow_id: uuid.UUID,
    *,
    limit: int,
    token: bytes | None,
    rpc_timeout: timedelta,
) -> tuple[list[str], bytes | None]:
    """One page of the ids of a workflow's schedules, and the next page's token."""
    listing = await client.list_schedules(
        workflow_query(workflow_id),
        page_size=limit,
        next_page_token=token,
        rpc_timeout=rpc_timeout,
    )
    await listing.fetch_next_page()
    return [entry.id for entry in listing.current_page or []], listing.next_page_token


async def pause_schedules(
    client: Client, workflow_id: uuid.UUID, *, note: str, rpc_timeout: timedelta
) -> int:
    """Pause every schedule of a workflow; the number paused."""
    paused = 0
    listing = await client.list_schedules(workflow_query(workflow_id), rpc_timeout=rpc_timeout)
    async for entry in listing:
        if entry.schedule is not None and entry.schedule.state.paused:
            continue
        try:
            await client.get_schedule_handle(entry.id).pause(note=note, rpc_timeout=rpc_timeout)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:  # deleted in the meantime
                raise
        paused += 1
    return paused


def pause_note(workflow_id: uuid.UUID) -> str:
    """The note on the schedules a paused workflow paused (so resuming it finds exactly those)."""
    return f"paused: workflow {workflow_id} was paused"


async def resume_schedules(
    client: Client, workflow_id: uuid.UUID, *, note: str, rpc_timeout: timedelta
) -> int:
    """Unpause the workflow's schedules paused with ``note``; the number resumed.

    Schedules paused for another reason (by their own ``PATCH``) stay paused.
    """
    resumed = 0
    listing = await client.list_schedules(workflow_query(workflow_id), rpc_timeout=rpc_timeout)
    async for entry in listing:
        handle = client.get_schedule_handle(entry.id)
        try:
            # The listing may lag: what the schedule says now decides.
            state = (await handle.describe(rpc_timeout=rpc_timeout)).schedule.state
            if state.paused and state.note == note:
                await handle.unpause(note="resumed with its workflow", rpc_timeout=rpc_timeout)
                resumed += 1
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:  # deleted in the meantime
                raise
    return resumed

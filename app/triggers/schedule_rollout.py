"""Schedules under a rollout: their action carries both arms, and each run picks one.

A Temporal Schedule starts every run with one fixed input, so the API cannot
place a schedule's runs the way it places the runs it starts itself. Instead,
while a workflow has a rollout, each of its schedules on the active version
(not ``pinned`` to a version it named) carries the candidate arm's whole
pinned input too (``RunInput.rollout``), and each run picks its arm as it
starts, in workflow code (:func:`interpreter.runtime.arms.placed`): a
hash of its ``sticky_by`` value (the same bucket the API computes, so a value
lands on the same arm whichever way its run started) or else of its run id.

Setting, changing, promoting or aborting a rollout rewrites only the action
of the workflow's schedules (:func:`sync_schedules`): their timing, overlap
policy, catch-up window and paused state stay as they are. Promoting moves
the schedules that took part onto the promoted version; aborting leaves them
on the stable one.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import (
    Client,
    ScheduleActionStartWorkflow,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from app.db.models.workflow import Workflow
from app.errors import ApiError
from app.runs.pinning import pinned_run_input
from app.settings import Settings
from app.triggers.schedules import ScheduleParams, build_action, describe_schedule, workflow_query
from interpreter.contract.rollout import rollout_salt
from interpreter.contract.run import RunInput, ScheduledRollout
from interpreter.dsl.payloads import over_limit

logger = logging.getLogger(__name__)


async def with_rollout(
    *, session: AsyncSession, settings: Settings, workflow: Workflow, run: RunInput, pinned: bool
) -> RunInput:
    """``run`` (a schedule's) with the workflow's rollout, when it takes part in one.

    It takes part when its version was not named and is the active version.
    An input the candidate's ``input_schema`` refuses, or both arms together
    over ``FLOWFORGE_RUN_MAX_PAYLOAD_BYTES`` (the size of one Temporal
    payload), keep the schedule on the stable arm (it is logged).
    """
    run = run.model_copy(update={"rollout": None})
    candidate, percent = workflow.rollout_candidate, workflow.rollout_percent
    if pinned or candidate is None or percent is None:
        return run
    if run.meta.version != workflow.active_version:
        return run
    try:
        other = await pinned_run_input(
            session=session,
            settings=settings,
            workflow=workflow,
            version=candidate,
            run_input=run.input,
            trigger="schedule",
        )
    except ApiError as exc:
        logger.warning(
            "a schedule of workflow %s stays on version %s: %s", workflow.id, run.meta.version, exc
        )
        return run
    rollout = ScheduledRollout(
        candidate=other,
        percent=percent,
        sticky_by=workflow.rollout_sticky_by,
        salt=rollout_salt(str(workflow.id), candidate),
    )
    both = run.model_copy(update={"rollout": rollout})
    size = over_limit(both, settings.run.max_payload_bytes)
    if size is not None:
        logger.warning(
            "a schedule of workflow %s stays on version %s: with the candidate its input is "
            "%s bytes, over FLOWFORGE_RUN_MAX_PAYLOAD_BYTES",
            workflow.id,
            run.meta.version,
            size,
        )
        return run
    return both


async def sync_schedules(
    *,
    client: Client,
    session: AsyncSession,
    settings: Settings,
    workflow: Workflow,
    promoted: bool = False,
    rpc_timeout: timedelta,
) -> int:
    """Give the workflow's schedules its rollout as it is now; the number changed.

    With ``promoted`` (the rollout was just promoted), schedules that took
    part in it run the promoted version from now on.
    """
    changed = 0
    listing = await client.list_schedules(workflow_query(workflow.id), rpc_timeout=rpc_timeout)
    async for entry in listing:
        found = await describe_schedule(client, entry.id, rpc_timeout)
        if found is None or found[1].pinned:
            continue
        params = found[1]
        before = params.run
        base = before
        if promoted and before.rollout is not None:
            base = before.rollout.candidate.model_copy(update={"rollout": None})
        run = await with_rollout(
            session=session, settings=settings, workflow=workflow, run=base, pinned=False
        )
        if run.rollout is None and before.rollout is None:
            continue
        action = build_action(
            entry.id,
            ScheduleParams(
                cron=params.cron,
                interval=params.interval,
                timezone=params.timezone,
                overlap=params.overlap,
                paused=params.paused,
                run=run,
                pinned=False,
            ),
            settings.task_queue,
            settings.run_keys(),
        )

        def replace(
            current: ScheduleUpdateInput, action: ScheduleActionStartWorkflow = action
        ) -> ScheduleUpdate:
            # Only the action changes: timing, policies and state are the schedule's own.
            schedule = current.description.schedule
            schedule.action = action
            return ScheduleUpdate(schedule=schedule)

        try:
            await client.get_schedule_handle(entry.id).update(replace, rpc_timeout=rpc_timeout)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:  # deleted in the meantime
                raise
            continue
        changed += 1
    return changed

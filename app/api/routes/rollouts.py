"""Rollouts: send a share of a workflow's new runs to a candidate version, then promote or abort.

See :mod:`app.workflows.rollout` for how runs are shared out, and
``GET /workflows/{id}/metrics?by=version`` to compare the arms.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from app.api.access import EditableWorkflow, ReadableWorkflow
from app.api.deps import SessionDep, StateDep, TemporalDep
from app.core.state import AppState
from app.db.crud import workflows as crud
from app.db.crud.workflows import get_version
from app.db.models.common import utcnow
from app.db.models.workflow import Workflow, WorkflowPublic
from app.errors import ApiError, ErrorItem
from app.triggers.schedule_rollout import sync_schedules
from app.workflows.rollout import sticky_errors

router = APIRouter(prefix="/workflows/{workflow_id}/rollout", tags=["workflows"])


class RolloutIn(BaseModel):
    """A rollout to start or change."""

    candidate: int = Field(ge=1, description="The version that gets a share of new runs.")
    percent: int = Field(ge=0, le=100, description="The share of new runs it gets, 0 to 100.")
    sticky_by: str | None = Field(
        default=None,
        max_length=1000,
        description="CEL over the run input (input.customer_id): runs with the same value "
        "always go to the same arm.",
    )


class Rollout(BaseModel):
    """A workflow's rollout: the candidate, its share, and the stable version it is set against."""

    candidate: int
    percent: int
    sticky_by: str | None
    stable: int = Field(description="The active version, which the other runs keep.")
    started_at: datetime | None


def _shown(workflow: Workflow) -> Rollout:
    if workflow.rollout_candidate is None or workflow.rollout_percent is None:
        raise ApiError(404, f"workflow {workflow.id} has no rollout")
    return Rollout(
        candidate=workflow.rollout_candidate,
        percent=workflow.rollout_percent,
        sticky_by=workflow.rollout_sticky_by,
        stable=workflow.active_version,
        started_at=workflow.rollout_started_at,
    )


def _cleared() -> dict[str, object]:
    return {
        "rollout_candidate": None,
        "rollout_percent": None,
        "rollout_sticky_by": None,
        "rollout_started_at": None,
    }


async def _schedules_follow(
    workflow: Workflow,
    session: AsyncSession,
    state: AppState,
    temporal: Client,
    *,
    promoted: bool = False,
) -> None:
    """The workflow's schedules on the active version take the rollout as it is now."""
    await sync_schedules(
        client=temporal,
        session=session,
        settings=state.settings,
        workflow=workflow,
        promoted=promoted,
        rpc_timeout=state.temporal.rpc_timeout,
    )


@router.get("")
async def read_rollout(workflow: ReadableWorkflow) -> Rollout:
    """The rollout under way; 404 if there is none."""
    return _shown(workflow)


@router.put("")
async def put_rollout(
    workflow: EditableWorkflow,
    session: SessionDep,
    state: StateDep,
    temporal: TemporalDep,
    body: RolloutIn,
) -> Rollout:
    """Start a rollout, or change its share or stickiness (the same candidate keeps its start).

    The workflow's schedules on the active version take part too: each run
    they start picks its arm as it starts (see docs/API.md, Rollouts).
    """
    errors = sticky_errors(body.sticky_by)
    if await get_version(session=session, workflow_id=workflow.id, version=body.candidate) is None:
        message = f"workflow {workflow.id} has no version {body.candidate}"
        errors.append(ErrorItem(path="/body/candidate", code="unknown_version", message=message))
    elif body.candidate == workflow.active_version:
        message = f"version {body.candidate} is the active version already: choose another"
        errors.append(
            ErrorItem(path="/body/candidate", code="candidate_is_active", message=message)
        )
    if errors:
        raise ApiError(422, f"the rollout is invalid ({len(errors)} problem(s))", errors=errors)
    same = workflow.rollout_candidate == body.candidate
    changes = {
        "rollout_candidate": body.candidate,
        "rollout_percent": body.percent,
        "rollout_sticky_by": body.sticky_by,
        "rollout_started_at": workflow.rollout_started_at if same else utcnow(),
    }
    workflow = await crud.patch_workflow(session=session, workflow=workflow, changes=changes)
    await _schedules_follow(workflow, session, state, temporal)
    return _shown(workflow)


@router.post("/promote")
async def promote(
    workflow: EditableWorkflow, session: SessionDep, state: StateDep, temporal: TemporalDep
) -> WorkflowPublic:
    """Make the candidate the active version and end the rollout.

    Schedules that took part in it run the promoted version from now on.
    """
    candidate = _shown(workflow).candidate
    changes = {**_cleared(), "active_version": candidate}
    workflow = await crud.patch_workflow(session=session, workflow=workflow, changes=changes)
    await _schedules_follow(workflow, session, state, temporal, promoted=True)
    return WorkflowPublic.model_validate(workflow)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def abort(
    workflow: EditableWorkflow, session: SessionDep, state: StateDep, temporal: TemporalDep
) -> None:
    """End the rollout: every new run goes to the active version again (404 if none)."""
    _shown(workflow)
    workflow = await crud.patch_workflow(session=session, workflow=workflow, changes=_cleared())
    await _schedules_follow(workflow, session, state, temporal)

"""The failures inbox: failed runs grouped by workflow and failing node; dismissing one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from app.api.deps import CurrentUser, EditorUser, RunId, StateDep, TemporalDep
from app.db.crud.runs import dismiss_run
from app.db.models.user import Role
from app.errors import ApiError
from app.runs.access import visible_run
from app.runs.failures import FailedRun, failure_inbox
from app.runs.status import run_status
from interpreter.contract.run import NodeError, RunStatus

router = APIRouter(prefix="/failures", tags=["failures"])

RUN_IDS_SHOWN = 100


class FailureSample(BaseModel):
    """One failed run of a group: when it ended and with which error."""

    run_id: str
    ended_at: datetime | None
    error: NodeError | None


class FailureGroup(BaseModel):
    """The failed runs of one workflow that one node failed."""

    workflow_id: str | None
    node_id: str | None = Field(description="Null when no worker answered for the runs' state.")
    count: int
    first: FailureSample = Field(description="The oldest failure of the group.")
    latest: FailureSample = Field(description="The newest failure of the group.")
    run_ids: list[str] = Field(description=f"Newest first, at most {RUN_IDS_SHOWN}.")


class Failures(BaseModel):
    """The inbox: groups by size (largest first), and how many failed runs were examined."""

    groups: list[FailureGroup]
    total: int = Field(description="Failed runs in the inbox.")
    examined: int = Field(description="Failed runs looked at (redriven and dismissed ones too).")
    truncated: bool = Field(
        description="More failed runs exist than FLOWFORGE_FAILURES_MAX_RUNS: older ones are "
        "not looked at."
    )


class Dismissed(BaseModel):
    """A failed run dismissed from the inbox."""

    run_id: str
    dismissed: bool = True


def _sample(run: FailedRun) -> FailureSample:
    return FailureSample(run_id=run.run_id, ended_at=run.ended_at, error=run.error)


def group_failures(runs: list[FailedRun]) -> list[FailureGroup]:
    """Runs grouped by (workflow, failing node), largest group first."""
    groups: dict[tuple[str | None, str | None], list[FailedRun]] = {}
    for run in runs:
        groups.setdefault((run.workflow_id, run.node_id), []).append(run)
    shown = []
    for (workflow_id, node_id), members in groups.items():
        members.sort(key=lambda run: (run.ended_at is not None, run.ended_at), reverse=True)
        shown.append(
            FailureGroup(
                workflow_id=workflow_id,
                node_id=node_id,
                count=len(members),
                first=_sample(members[-1]),
                latest=_sample(members[0]),
                run_ids=[run.run_id for run in members[:RUN_IDS_SHOWN]],
            )
        )
    shown.sort(key=lambda group: (-group.count, group.workflow_id or "", group.node_id or ""))
    return shown


@router.get("")
async def list_failures(
    user: CurrentUser,
    state: StateDep,
    temporal: TemporalDep,
    workflow_id: uuid.UUID | None = None,
    since: Annotated[datetime | None, Query(description="Runs started at or after.")] = None,
) -> Failures:
    """Failed runs not yet redriven (rerun) or dismissed, by workflow and failing node.

    Non-admins see their own runs only; admins everyone's.
    """
    inbox = await failure_inbox(
        client=temporal,
        state=state,
        owner_id=None if user.role == Role.ADMIN else user.id,
        workflow_id=workflow_id,
        since=since,
    )
    return Failures(
        groups=group_failures(inbox.runs),
        total=len(inbox.runs),
        examined=inbox.examined,
        truncated=inbox.truncated,
    )


@router.post("/{run_id}/dismiss", status_code=status.HTTP_200_OK)
async def dismiss_failure(
    run_id: RunId, user: EditorUser, state: StateDep, temporal: TemporalDep
) -> Dismissed:
    """Take a failed run out of the inbox (it stays failed); 409 for a run that did not fail."""
    description = await visible_run(temporal, state, run_id, user)
    shown = run_status(description.status, None)
    if shown != RunStatus.FAILED:
        raise ApiError(409, f"run {run_id} is {shown.value}, not failed: nothing to dismiss")
    async with state.sessions() as session:
        await dismiss_run(session=session, run_id=run_id, user_id=user.id)
    return Dismissed(run_id=run_id)

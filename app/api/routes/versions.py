"""The immutable versions of a workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.api.access import EditableWorkflow, ReadableWorkflow
from app.api.deps import SessionDep, StateDep, TemporalDep
from app.api.pagination import Cursor, Page, PageSize
from app.db.crud import workflows as crud
from app.db.models.workflow import (
    Workflow,
    WorkflowPublic,
    WorkflowVersion,
    WorkflowVersionDetail,
    WorkflowVersionPublic,
)
from app.errors import ApiError
from app.triggers.schedule_rollout import sync_schedules

router = APIRouter(prefix="/workflows/{workflow_id}/versions", tags=["workflows"])

VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _public(workflow: Workflow, version: WorkflowVersion) -> WorkflowVersionPublic:
    return WorkflowVersionPublic.model_validate(
        version, update={"active": version.version == workflow.active_version}
    )


def _below(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit():
        raise ApiError(400, "cursor is invalid: pass the next_cursor of a previous page unchanged")
    return int(cursor)


async def _version(session: SessionDep, workflow: Workflow, number: int) -> WorkflowVersion:
    version = await crud.get_version(session=session, workflow_id=workflow.id, version=number)
    if version is None:
        raise ApiError(404, f"workflow {workflow.id} has no version {number}")
    return version


@router.get("")
async def list_all(
    workflow: ReadableWorkflow, session: SessionDep, limit: PageSize, cursor: Cursor = None
) -> Page[WorkflowVersionPublic]:
    """Versions, newest first."""
    rows = await crud.list_versions(
        session=session, workflow_id=workflow.id, limit=limit + 1, below=_below(cursor)
    )
    page = list(rows[:limit])
    more = len(rows) > limit
    return Page(
        items=[_public(workflow, v) for v in page],
        next_cursor=str(page[-1].version) if more else None,
    )


@router.get("/{version}")
async def read(
    workflow: ReadableWorkflow, session: SessionDep, version: VersionNumber
) -> WorkflowVersionDetail:
    """One version with its definition."""
    row = await _version(session, workflow, version)
    return WorkflowVersionDetail.model_validate(
        _public(workflow, row), update={"definition": row.definition}
    )


@router.post("/{version}/activate")
async def activate(
    workflow: EditableWorkflow,
    session: SessionDep,
    state: StateDep,
    temporal: TemporalDep,
    version: VersionNumber,
) -> WorkflowPublic:
    """Make ``version`` the one new runs use (roll back or forward).

    Activating a rollout's candidate promotes it, schedules that took part included.
    """
    await _version(session, workflow, version)
    candidate = workflow.rollout_candidate
    workflow = await crud.activate_version(session=session, workflow=workflow, version=version)
    if candidate is not None:
        await sync_schedules(
            client=temporal,
            session=session,
            settings=state.settings,
            workflow=workflow,
            promoted=candidate == version,
            rpc_timeout=state.temporal.rpc_timeout,
        )
    return WorkflowPublic.model_validate(workflow)

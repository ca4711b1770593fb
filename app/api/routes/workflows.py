"""Workflows: define, validate, list, read, update (new version), delete."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.access import EditableWorkflow, ReadableWorkflow
from app.api.deps import CurrentUser, EditorUser, SessionDep, StateDep, TemporalDep
from app.api.pagination import Cursor, Page, PageSize, decode_position, encode_position
from app.db.crud import workflows as crud
from app.db.crud.pages import split_page
from app.db.errors import AlreadyExists
from app.db.models.user import Role, User
from app.db.models.workflow import (
    MAX_TAGS,
    DefinitionIn,
    Tag,
    WorkflowCreate,
    WorkflowDetail,
    WorkflowPatch,
    WorkflowPublic,
    WorkflowSaved,
    WorkflowStatus,
    WorkflowUpdate,
)
from app.errors import ApiError, ErrorItem
from app.plugins.pinning import plugin_errors
from app.triggers.schedules import pause_note, pause_schedules, resume_schedules
from app.workflows import importer
from app.workflows.definitions import definition_errors, valid_definition
from app.workflows.sub_workflows import reference_errors
from interpreter.dsl.definition import Definition

router = APIRouter(prefix="/workflows", tags=["workflows"])


class ValidationReport(BaseModel):
    """Whether a definition is valid; if not, every problem with its JSON pointer."""

    valid: bool
    errors: list[ErrorItem]


async def _reference_errors(
    session: AsyncSession, definition: Definition, user: User, owner_id: uuid.UUID
) -> list[ErrorItem]:
    """Every sub_workflow target the user cannot read, and plugin ``owner_id`` lacks."""
    errors = await reference_errors(session, definition.nodes, user)
    return errors + await plugin_errors(session, definition, owner_id)


async def _check_references(
    session: AsyncSession, definition: Definition, user: User, owner_id: uuid.UUID
) -> None:
    """422 unless every reference resolves (see :func:`_reference_errors`)."""
    errors = await _reference_errors(session, definition, user, owner_id)
    if errors:
        raise ApiError(
            422,
            f"the definition is invalid ({len(errors)} problem(s)); see errors",
            errors=errors,
        )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(
    user: EditorUser, state: StateDep, session: SessionDep, body: WorkflowCreate
) -> WorkflowPublic:
    """Define a workflow; its definition becomes version 1 (active)."""
    definition = await valid_definition(body.definition, state.settings)
    await _check_references(session, definition, user, user.id)
    try:
        workflow = await crud.create_workflow(
            session=session, owner=user, definition=definition, raw=body.definition
        )
    except AlreadyExists as exc:
        raise ApiError(409, str(exc)) from None
    return WorkflowPublic.model_validate(workflow)


@router.post("/validate")
async def validate(
    user: CurrentUser, state: StateDep, session: SessionDep, body: DefinitionIn
) -> ValidationReport:
    """Check a definition without saving it."""
    definition, errors = await definition_errors(body.definition, state.settings)
    if definition is not None:
        errors = await _reference_errors(session, definition, user, user.id)
    return ValidationReport(valid=not errors, errors=errors)


class ImportIn(BaseModel):
    """A workflow document in another tool's vocabulary (see ``POST /workflows/import``)."""

    document: dict[str, Any]


class ImportReport(ValidationReport):
    """The converted definition, what the conversion changed or could not map, and its check.

    Attributes:
        definition: The FlowForge definition; save it with ``POST /workflows``.
        notes: Each change or unmapped part, starting with its JSON pointer in
            the document.
    """

    definition: dict[str, Any]
    notes: list[str]


@router.post("/import")
async def import_document(
    user: CurrentUser, state: StateDep, session: SessionDep, body: ImportIn
) -> ImportReport:
    """Convert a workflow written with ``steps`` or ``nodes``/``edges`` in another vocabulary.

    Nothing is saved: the answer has the definition, a note for every change
    and for what could not be mapped, and the definition's validation report.
    """
    imported = importer.import_document(body.document)
    definition, errors = await definition_errors(imported.definition, state.settings)
    if definition is not None:
        errors = await _reference_errors(session, definition, user, user.id)
    return ImportReport(
        valid=not errors, errors=errors, definition=imported.definition, notes=imported.notes
    )


@router.get("")
async def list_all(
    user: CurrentUser,
    session: SessionDep,
    limit: PageSize,
    cursor: Cursor = None,
    tag: Annotated[
        list[Tag] | None, Query(max_length=MAX_TAGS, description="Only those with every tag.")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Only those whose name or description contains this.",
        ),
    ] = None,
    workflow_status: Annotated[
        WorkflowStatus | None, Query(alias="status", description="Only active or paused ones.")
    ] = None,
) -> Page[WorkflowPublic]:
    """Your workflows (an admin's list has everyone's), newest first, filtered if asked."""
    rows = await crud.list_workflows(
        session=session,
        owner_id=None if user.role == Role.ADMIN else user.id,
        limit=limit + 1,
        after=decode_position(cursor),
        tags=tag or (),
        q=q,
        status=workflow_status,
    )
    page, position = split_page(rows, limit)
    return Page(
        items=[WorkflowPublic.model_validate(w) for w in page],
        next_cursor=encode_position(position),
    )


@router.get("/{workflow_id}")
async def read(workflow: ReadableWorkflow, session: SessionDep) -> WorkflowDetail:
    """A workflow with its active version's definition."""
    version = await crud.get_version(
        session=session, workflow_id=workflow.id, version=workflow.active_version
    )
    if version is None:  # the foreign key and activate() make this unreachable
        raise ApiError(500, f"workflow {workflow.id} has no version {workflow.active_version}")
    return WorkflowDetail.model_validate(workflow, update={"definition": version.definition})


@router.put("/{workflow_id}")
async def update(
    workflow: EditableWorkflow,
    user: EditorUser,
    state: StateDep,
    session: SessionDep,
    body: WorkflowUpdate,
    activate: Annotated[
        bool, Query(description="Make the new version active (false keeps the current one).")
    ] = True,
) -> WorkflowSaved:
    """Store the definition as a new immutable version; runs in flight keep theirs.

    The answer says whether a version was added (an unchanged definition adds
    none) and, when the definition's ``name`` differs, the name it had before.
    """
    definition = await valid_definition(body.definition, state.settings)
    await _check_references(session, definition, user, workflow.owner_id)
    name_before, version_before = workflow.name, workflow.version
    try:
        workflow = await crud.add_version(
            session=session,
            workflow=workflow,
            definition=definition,
            raw=body.definition,
            user=user,
            activate=activate,
        )
    except AlreadyExists as exc:
        raise ApiError(409, str(exc)) from None
    return WorkflowSaved.model_validate(
        workflow,
        update={
            "new_version": workflow.version != version_before,
            "renamed_from": name_before if workflow.name != name_before else None,
        },
    )


@router.patch("/{workflow_id}")
async def patch(
    workflow: EditableWorkflow,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    body: WorkflowPatch,
) -> WorkflowPublic:
    """Pause or resume a workflow, or change its tags, description or category.

    Pausing stops every way a run starts: API starts answer 409, its
    schedules pause, its hooks answer 423 and events skip it. Resuming
    unpauses exactly the schedules pausing paused; runs in flight go on either way.
    """
    changes = body.model_dump(exclude_unset=True)
    if changes.get("status") is None:
        changes.pop("status", None)
    if "tags" in changes:
        changes["tags"] = sorted(set(changes["tags"] or []))
    before = workflow.status
    after = changes.get("status", before)
    note = pause_note(workflow.id)
    rpc_timeout = state.temporal.rpc_timeout
    # Temporal first: if it is down the change fails whole, rather than leaving a
    # paused workflow whose schedules still fire.
    if before == WorkflowStatus.ACTIVE and after == WorkflowStatus.PAUSED:
        await pause_schedules(temporal, workflow.id, note=note, rpc_timeout=rpc_timeout)
    elif before == WorkflowStatus.PAUSED and after == WorkflowStatus.ACTIVE:
        await resume_schedules(temporal, workflow.id, note=note, rpc_timeout=rpc_timeout)
    workflow = await crud.patch_workflow(session=session, workflow=workflow, changes=changes)
    return WorkflowPublic.model_validate(workflow)


@router.delete("/{workflow_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(
    workflow: EditableWorkflow, session: SessionDep, state: StateDep, temporal: TemporalDep
) -> Response:
    """Delete the workflow (softly): it disappears from the API.

    Its running runs continue, its schedules are paused and its inbound
    webhooks refuse calls.
    """
    # Schedules first: if Temporal is down the delete fails whole, rather than
    # leaving a deleted workflow whose schedules still fire.
    await pause_schedules(
        temporal,
        workflow.id,
        note=f"paused: workflow {workflow.id} was deleted",
        rpc_timeout=state.temporal.rpc_timeout,
    )
    await crud.delete_workflow(session=session, workflow=workflow)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

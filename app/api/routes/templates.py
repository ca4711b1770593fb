"""Workflow templates: list, read, save, delete, and instantiate into a workflow.

Built-in templates (no owner) are visible to everyone and cannot be deleted.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import CurrentUser, EditorUser, SessionDep, StateDep
from app.api.pagination import Cursor, Page, PageSize, decode_position, encode_position
from app.db.crud import templates as crud
from app.db.crud.pages import split_page
from app.db.crud.workflows import create_workflow, get_version, get_workflow
from app.db.errors import AlreadyExists
from app.db.models.template import (
    TemplateCreate,
    TemplateDetail,
    TemplateInstantiate,
    TemplateParameter,
    TemplateSummary,
    WorkflowTemplate,
)
from app.db.models.user import Role, User
from app.db.models.workflow import WorkflowPublic
from app.errors import ApiError
from app.ownership import may_access
from app.templates.params import declaration_errors, parameter_values, substitute
from app.workflows.definitions import valid_definition
from app.workflows.sub_workflows import reference_errors

router = APIRouter(prefix="/templates", tags=["templates"])


def _parameters(template: WorkflowTemplate) -> list[TemplateParameter]:
    return [TemplateParameter.model_validate(p) for p in template.parameters]


def _summary(template: WorkflowTemplate) -> TemplateSummary:
    return TemplateSummary(
        id=template.id,
        name=template.name,
        description=template.description,
        owner_id=template.owner_id,
        builtin=template.owner_id is None,
        parameters=_parameters(template),
        created_at=template.created_at,
    )


async def _visible_template(
    template_id: uuid.UUID, session: SessionDep, user: User
) -> WorkflowTemplate:
    template = await crud.get_template(session=session, template_id=template_id)
    if template is None or (
        template.owner_id is not None and not may_access(user, template.owner_id)
    ):
        raise ApiError(404, f"template {template_id} not found")
    return template


async def readable_template(
    template_id: uuid.UUID, session: SessionDep, user: CurrentUser
) -> WorkflowTemplate:
    """The path's template, if built in, the caller's, or the caller is an admin (else 404)."""
    return await _visible_template(template_id, session, user)


async def usable_template(
    template_id: uuid.UUID, session: SessionDep, user: EditorUser
) -> WorkflowTemplate:
    """The path's template to use or delete: 403 for a viewer, then as :func:`readable_template`."""
    return await _visible_template(template_id, session, user)


ReadableTemplate = Annotated[WorkflowTemplate, Depends(readable_template)]
UsableTemplate = Annotated[WorkflowTemplate, Depends(usable_template)]


async def _source_definition(
    session: SessionDep, body: TemplateCreate, user: User
) -> dict[str, Any]:
    if (body.definition is None) == (body.workflow_id is None):
        raise ApiError(422, "give either definition or workflow_id (with an optional version)")
    if body.definition is not None:
        return body.definition
    assert body.workflow_id is not None
    workflow = await get_workflow(session=session, workflow_id=body.workflow_id)
    if workflow is None or not may_access(user, workflow.owner_id):
        raise ApiError(404, f"workflow {body.workflow_id} not found")
    number = body.version or workflow.active_version
    row = await get_version(session=session, workflow_id=workflow.id, version=number)
    if row is None:
        raise ApiError(422, f"workflow {workflow.id} has no version {number}")
    return row.definition


@router.get("")
async def list_templates(
    user: CurrentUser, session: SessionDep, limit: PageSize, cursor: Cursor = None
) -> Page[TemplateSummary]:
    """The built-in templates and the caller's own, newest first."""
    rows = await crud.list_templates(
        session=session,
        owner_id=None if user.role == Role.ADMIN else user.id,
        limit=limit + 1,
        after=decode_position(cursor),
    )
    page, position = split_page(rows, limit)
    return Page(items=[_summary(t) for t in page], next_cursor=encode_position(position))


@router.get("/{template_id}")
async def read_template(template: ReadableTemplate) -> TemplateDetail:
    """One template: its definition and the parameters it takes."""
    return TemplateDetail(**_summary(template).model_dump(), definition=template.definition)


@router.post("", status_code=status.HTTP_201_CREATED)
async def save_template(
    body: TemplateCreate, user: EditorUser, state: StateDep, session: SessionDep
) -> TemplateDetail:
    """Save a definition, or a workflow's version, with ``${param.NAME}`` placeholders."""
    definition = await _source_definition(session, body, user)
    errors = declaration_errors(definition, body.parameters)
    if errors:
        raise ApiError(
            422, f"the template's parameters are wrong ({len(errors)} problem(s))", errors=errors
        )
    if not any(p.required for p in body.parameters):
        # Nothing is left to the caller: the result must already be a valid definition.
        values, _ = parameter_values(body.parameters, {})
        await valid_definition(substitute(definition, values), state.settings)
    template = await crud.create_template(
        session=session,
        template=WorkflowTemplate(
            name=body.name,
            description=body.description,
            definition=definition,
            parameters=[p.model_dump() for p in body.parameters],
            owner_id=user.id,
        ),
    )
    return TemplateDetail(**_summary(template).model_dump(), definition=template.definition)


@router.delete("/{template_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_template(template: UsableTemplate, session: SessionDep) -> Response:
    """Delete a saved template; built-in ones cannot be deleted (403)."""
    if template.owner_id is None:
        raise ApiError(403, "built-in templates cannot be deleted")
    await crud.delete_template(session=session, template=template)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{template_id}/instantiate", status_code=status.HTTP_201_CREATED)
async def instantiate(
    template: UsableTemplate,
    body: TemplateInstantiate,
    user: EditorUser,
    state: StateDep,
    session: SessionDep,
) -> WorkflowPublic:
    """Fill in the parameters and create a workflow (as ``POST /workflows``) named ``name``."""
    values, errors = parameter_values(_parameters(template), body.parameters)
    if errors:
        raise ApiError(422, f"the parameters are wrong ({len(errors)} problem(s))", errors=errors)
    raw = substitute(template.definition, values)
    raw["name"] = body.name
    definition = await valid_definition(raw, state.settings)
    references = await reference_errors(session, definition.nodes, user)
    if references:
        raise ApiError(
            422, f"the definition is invalid ({len(references)} problem(s))", errors=references
        )
    try:
        workflow = await create_workflow(
            session=session, owner=user, definition=definition, raw=raw
        )
    except AlreadyExists as exc:
        raise ApiError(409, str(exc)) from None
    return WorkflowPublic.model_validate(workflow)

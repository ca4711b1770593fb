"""A workflow's inbound webhooks: create (the secret is shown once), list, disable, delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from app.api.access import EditableWorkflow, ReadableWorkflow
from app.api.deps import CurrentUser, EditorUser, SessionDep, StateDep
from app.api.pagination import Cursor, Page, PageSize, decode_position, encode_position
from app.db.crud import hooks as crud
from app.db.crud.pages import split_page
from app.db.models.hook import HookCreate, HookCreated, HookPublic, HookUpdate, WebhookHook
from app.db.models.user import User
from app.errors import ApiError
from app.ownership import may_access
from app.runs.quotas import check_hook_count
from app.settings import Settings
from app.triggers.hook_secrets import new_hook_secret, seal_hook_secret

router = APIRouter(tags=["webhooks"])

HOOK_PATH = "/api/v1/hooks/"


def hook_url(settings: Settings, request: Request, hook_id: uuid.UUID) -> str:
    """The URL handed out for hook ``hook_id``: on the public URL if set, else the request's."""
    base = settings.public_url or str(request.base_url)
    return base.rstrip("/") + HOOK_PATH + str(hook_id)


def _public(hook: WebhookHook, settings: Settings, request: Request) -> HookPublic:
    return HookPublic(
        hook_id=hook.id,
        workflow_id=hook.workflow_id,
        owner_id=hook.owner_id,
        url=hook_url(settings, request, hook.id),
        enabled=hook.enabled,
        require_timestamp=hook.require_timestamp,
        created_at=hook.created_at,
    )


async def _visible_hook(hook_id: uuid.UUID, session: SessionDep, user: User) -> WebhookHook:
    hook = await crud.get_hook(session=session, hook_id=hook_id)
    if hook is None or not may_access(user, hook.owner_id):
        raise ApiError(404, f"webhook {hook_id} not found")
    return hook


async def readable_hook(hook_id: uuid.UUID, session: SessionDep, user: CurrentUser) -> WebhookHook:
    """The path's webhook, if the caller owns it or is an admin (404 otherwise)."""
    return await _visible_hook(hook_id, session, user)


async def editable_hook(hook_id: uuid.UUID, session: SessionDep, user: EditorUser) -> WebhookHook:
    """The path's webhook for a change: 403 for a viewer, then as :func:`readable_hook`."""
    return await _visible_hook(hook_id, session, user)


ReadableHook = Annotated[WebhookHook, Depends(readable_hook)]
EditableHook = Annotated[WebhookHook, Depends(editable_hook)]


@router.post("/workflows/{workflow_id}/webhooks", status_code=status.HTTP_201_CREATED)
async def create(
    workflow: EditableWorkflow,
    state: StateDep,
    session: SessionDep,
    request: Request,
    body: HookCreate | None = None,
) -> HookCreated:
    """A URL that starts a run of the workflow with the (signed) JSON body as input.

    ``secret`` is shown now and never again. Calls must carry a signed
    ``X-Timestamp`` unless the body says ``"require_timestamp": false``.
    409 if the workflow's owner has as many webhooks as allowed.
    """
    await check_hook_count(session=session, settings=state.settings, owner_id=workflow.owner_id)
    options = body or HookCreate()
    secret = new_hook_secret()
    hook_id = uuid.uuid4()
    hook = await crud.create_hook(
        session=session,
        hook=WebhookHook(
            id=hook_id,
            workflow_id=workflow.id,
            owner_id=workflow.owner_id,
            secret=seal_hook_secret(state.settings, hook_id, secret),
            require_timestamp=options.require_timestamp,
        ),
    )
    shown = _public(hook, state.settings, request)
    return HookCreated(**shown.model_dump(), secret=secret)


@router.get("/workflows/{workflow_id}/webhooks")
async def list_for_workflow(
    workflow: ReadableWorkflow,
    state: StateDep,
    session: SessionDep,
    request: Request,
    limit: PageSize,
    cursor: Cursor = None,
) -> Page[HookPublic]:
    """The workflow's webhooks, newest first (without their secrets)."""
    rows = await crud.list_hooks(
        session=session, workflow_id=workflow.id, limit=limit + 1, after=decode_position(cursor)
    )
    page, position = split_page(rows, limit)
    return Page(
        items=[_public(hook, state.settings, request) for hook in page],
        next_cursor=encode_position(position),
    )


@router.get("/webhooks/{hook_id}")
async def read(hook: ReadableHook, state: StateDep, request: Request) -> HookPublic:
    """One webhook: its URL, its workflow and whether it is enabled (never its secret)."""
    return _public(hook, state.settings, request)


@router.patch("/webhooks/{hook_id}")
async def update(
    hook: EditableHook, body: HookUpdate, state: StateDep, session: SessionDep, request: Request
) -> HookPublic:
    """Enable or disable the webhook (a disabled one answers 409 and starts nothing).

    ``require_timestamp`` may be changed too (false accepts the weaker legacy signature).
    """
    if body.enabled is None and body.require_timestamp is None:
        raise ApiError(422, "send enabled and/or require_timestamp: there is nothing to change")
    hook = await crud.update_hook(
        session=session,
        hook=hook,
        enabled=body.enabled,
        require_timestamp=body.require_timestamp,
    )
    return _public(hook, state.settings, request)


@router.delete("/webhooks/{hook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(hook: EditableHook, session: SessionDep) -> Response:
    """Delete the webhook: its URL answers 404 from now on."""
    await crud.delete_hook(session=session, hook=hook)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

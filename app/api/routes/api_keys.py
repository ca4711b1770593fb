"""API keys of the calling user."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from app.api.deps import CurrentUser, SessionDep
from app.api.pagination import Cursor, Page, PageSize, decode_position, encode_position
from app.db.crud.api_keys import (
    create_api_key,
    delete_api_key,
    get_api_key,
    list_api_keys,
    user_for_api_key,
)
from app.db.crud.pages import split_page
from app.db.models.api_key import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from app.db.models.user import Role
from app.errors import ApiError, ErrorItem
from app.security import API_KEY_PREFIX

router = APIRouter(prefix="/api-keys", tags=["api-keys"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(
    request: Request, user: CurrentUser, session: SessionDep, body: ApiKeyCreate
) -> ApiKeyCreated:
    """Issue a key acting as the caller. ``key`` is shown now and never again.

    ``scopes`` (``read``, ``run``, ``manage``; all three if omitted) limit what
    the key may do; ``expires_at`` ends it. A key made with a key gets no scope
    and no lifetime beyond the one it was made with.
    """
    _, _, credential = request.headers.get("authorization", "").partition(" ")
    if credential.strip().startswith(API_KEY_PREFIX):
        found = await user_for_api_key(session=session, key=credential.strip())
        if found is not None:
            _refuse_wider_than(body, found[1])
    row, key = await create_api_key(session=session, user=user, key_create=body)
    return ApiKeyCreated.model_validate(row, update={"key": key})


def _refuse_wider_than(body: ApiKeyCreate, parent: ApiKey) -> None:
    # Otherwise a key limited in scope or time could mint itself an unlimited one.
    problems = []
    wider = [scope.value for scope in body.scopes if not parent.allows(scope)]
    if wider:
        problems.append(
            ErrorItem(
                path="/body/scopes",
                code="wider_than_parent",
                message=f"the key this call is made with lacks {', '.join(wider)}",
            )
        )
    if parent.expires_at is not None and (
        body.expires_at is None or body.expires_at > parent.expires_at
    ):
        problems.append(
            ErrorItem(
                path="/body/expires_at",
                code="outlives_parent",
                message=f"the key this call is made with expires at "
                f"{parent.expires_at.isoformat()}: give that or earlier",
            )
        )
    if problems:
        raise ApiError(
            422, "a key made with an API key cannot do more than that key", errors=problems
        )


@router.get("")
async def list_mine(
    user: CurrentUser, session: SessionDep, limit: PageSize, cursor: Cursor = None
) -> Page[ApiKeyPublic]:
    """The caller's keys (without the keys themselves), newest first."""
    rows = await list_api_keys(
        session=session, user_id=user.id, limit=limit + 1, after=decode_position(cursor)
    )
    page, position = split_page(rows, limit)
    return Page(
        items=[ApiKeyPublic.model_validate(row) for row in page],
        next_cursor=encode_position(position),
    )


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke(key_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    """Revoke one of the caller's keys at once."""
    row = await get_api_key(session=session, key_id=key_id)
    if row is None or (row.user_id != user.id and user.role != Role.ADMIN):
        raise ApiError(404, f"API key {key_id} not found")
    await delete_api_key(session=session, api_key=row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""API keys of the calling user."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.api.deps import CurrentUser, SessionDep
from app.api.pagination import Cursor, Page, PageSize, decode_position, encode_position
from app.db.crud.api_keys import create_api_key, delete_api_key, get_api_key, list_api_keys
from app.db.crud.pages import split_page
from app.db.models.api_key import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from app.db.models.user import Role
from app.errors import ApiError

router = APIRouter(prefix="/api-keys", tags=["api-keys"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(user: CurrentUser, session: SessionDep, body: ApiKeyCreate) -> ApiKeyCreated:
    """Issue a key acting as the caller. ``key`` is shown now and never again."""
    row, key = await create_api_key(session=session, user=user, key_create=body)
    return ApiKeyCreated.model_validate(row, update={"key": key})


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

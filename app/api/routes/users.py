"""User administration (admin only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import AdminUser, SessionDep
from app.api.pagination import Cursor, Page, PageSize, decode_position, encode_position
from app.db.crud.pages import split_page
from app.db.crud.users import create_user, get_user, list_users, update_user
from app.db.errors import AlreadyExists
from app.db.models.user import Role, UserCreate, UserPublic, UserUpdate
from app.errors import ApiError

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(_admin: AdminUser, session: SessionDep, body: UserCreate) -> UserPublic:
    """Create a user with a role: ``admin``, ``editor`` or ``viewer``."""
    try:
        user = await create_user(session=session, user_create=body)
    except AlreadyExists as exc:
        raise ApiError(409, str(exc)) from None
    return UserPublic.model_validate(user)


@router.get("")
async def list_all(
    _admin: AdminUser,
    session: SessionDep,
    limit: PageSize,
    cursor: Cursor = None,
    q: Annotated[
        str | None, Query(max_length=64, description="Only usernames containing this.")
    ] = None,
) -> Page[UserPublic]:
    """Every user (active or not), newest first."""
    rows = await list_users(session=session, q=q, limit=limit + 1, after=decode_position(cursor))
    page, position = split_page(rows, limit)
    return Page(
        items=[UserPublic.model_validate(row) for row in page],
        next_cursor=encode_position(position),
    )


@router.get("/{user_id}")
async def read(_admin: AdminUser, session: SessionDep, user_id: uuid.UUID) -> UserPublic:
    """One user."""
    user = await get_user(session=session, user_id=user_id)
    if user is None:
        raise ApiError(404, f"no user {user_id}")
    return UserPublic.model_validate(user)


@router.patch("/{user_id}")
async def update(
    admin: AdminUser, session: SessionDep, user_id: uuid.UUID, body: UserUpdate
) -> UserPublic:
    """Disable or enable a user, change their role, or set their password.

    Disabling and a new password revoke the user's access tokens. An admin can
    neither disable nor demote themselves, so there is always an admin left.
    """
    user = await get_user(session=session, user_id=user_id)
    if user is None:
        raise ApiError(404, f"no user {user_id}")
    active = body.active()
    if user.id == admin.id and active is False:
        raise ApiError(409, "an admin cannot disable themselves: ask another admin")
    if user.id == admin.id and body.role is not None and body.role != Role.ADMIN:
        raise ApiError(409, "an admin cannot demote themselves: ask another admin")
    user = await update_user(
        session=session, user=user, is_active=active, role=body.role, password=body.password
    )
    return UserPublic.model_validate(user)

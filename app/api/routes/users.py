"""User administration (admin only)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.api.deps import AdminUser, SessionDep
from app.db.crud.users import create_user, get_user, update_user
from app.db.errors import AlreadyExists
from app.db.models.user import UserCreate, UserPublic, UserUpdate
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


@router.patch("/{user_id}")
async def update(
    admin: AdminUser, session: SessionDep, user_id: uuid.UUID, body: UserUpdate
) -> UserPublic:
    """Disable (``is_active: false``) or enable a user; disabling revokes their access tokens."""
    user = await get_user(session=session, user_id=user_id)
    if user is None:
        raise ApiError(404, f"no user {user_id}")
    if user.id == admin.id and body.is_active is False:
        raise ApiError(409, "an admin cannot disable themselves: ask another admin")
    user = await update_user(session=session, user=user, is_active=body.is_active)
    return UserPublic.model_validate(user)

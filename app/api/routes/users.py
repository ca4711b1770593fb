"""User administration (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import AdminUser, SessionDep
from app.db.crud.users import create_user
from app.db.errors import AlreadyExists
from app.db.models.user import UserCreate, UserPublic
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

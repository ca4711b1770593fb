"""API keys: issue, list, revoke, and resolve a presented key to its user."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.pages import Position, newest_first
from app.db.models.api_key import ApiKey, ApiKeyCreate
from app.db.models.user import User
from app.security import hash_api_key, new_api_key

_SHOWN_PREFIX = 12


async def create_api_key(
    *, session: AsyncSession, user: User, key_create: ApiKeyCreate
) -> tuple[ApiKey, str]:
    """Issue a key for ``user``; return the row and the key (never stored in clear)."""
    key = new_api_key()
    row = ApiKey(
        name=key_create.name,
        user_id=user.id,
        key_hash=hash_api_key(key),
        prefix=key[:_SHOWN_PREFIX],
    )
    session.add(row)
    await session.commit()
    await session.refresh(row)
    return row, key


async def list_api_keys(
    *, session: AsyncSession, user_id: uuid.UUID, limit: int, after: Position | None
) -> Sequence[ApiKey]:
    """Up to ``limit`` of the user's keys, newest first."""
    statement = newest_first(select(ApiKey).where(ApiKey.user_id == user_id), ApiKey, after)
    result = await session.exec(statement.limit(limit))
    return result.all()


async def get_api_key(*, session: AsyncSession, key_id: uuid.UUID) -> ApiKey | None:
    """The key ``key_id``, whoever owns it; None if there is none."""
    return await session.get(ApiKey, key_id)


async def delete_api_key(*, session: AsyncSession, api_key: ApiKey) -> None:
    """Revoke ``api_key``: it authenticates nobody from now on."""
    await session.delete(api_key)
    await session.commit()


async def user_for_api_key(*, session: AsyncSession, key: str) -> User | None:
    """The user a presented key belongs to, or None for an unknown key."""
    result = await session.exec(
        select(User).join(ApiKey).where(ApiKey.key_hash == hash_api_key(key))
    )
    return result.first()

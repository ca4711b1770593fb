"""API keys: issue, list, revoke, and resolve a presented key to its user."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.pages import Position, newest_first
from app.db.models.api_key import ApiKey, ApiKeyCreate
from app.db.models.common import utcnow
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
        scopes=[str(scope) for scope in key_create.scopes],
        expires_at=key_create.expires_at,
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


async def user_for_api_key(*, session: AsyncSession, key: str) -> tuple[User, ApiKey] | None:
    """The user a presented key belongs to, and the key; None for an unknown or expired key."""
    result = await session.exec(
        select(User, ApiKey)
        .join(ApiKey)
        .where(
            ApiKey.key_hash == hash_api_key(key),
            or_(col(ApiKey.expires_at).is_(None), col(ApiKey.expires_at) > utcnow()),
        )
    )
    found = result.first()
    return None if found is None else (found[0], found[1])

"""Access token revocation: single tokens by id, and all of a user's at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models.common import utcnow
from app.db.models.revoked_token import RevokedToken
from app.db.models.user import User
from app.security import TokenClaims

_EXPIRED_BATCH = 100
"""Expired revocations deleted per logout: bounded work per call."""


async def revoke_token(*, session: AsyncSession, token_id: str, expires_at: datetime) -> None:
    """Refuse the token ``token_id`` from now on (kept until ``expires_at``); commits."""
    table = RevokedToken.__table__  # type: ignore[attr-defined]
    await session.exec(
        insert(table).values(token_id=token_id, expires_at=expires_at).on_conflict_do_nothing()
    )
    expired = (
        select(RevokedToken.token_id)
        .where(col(RevokedToken.expires_at) <= utcnow())
        .limit(_EXPIRED_BATCH)
    )
    await session.exec(delete(RevokedToken).where(col(RevokedToken.token_id).in_(expired)))
    await session.commit()


async def token_is_revoked(*, session: AsyncSession, user: User, claims: TokenClaims) -> bool:
    """Whether ``user``'s token was logged out, or issued before their tokens were revoked."""
    if user.tokens_valid_after is not None and claims.issued_at < user.tokens_valid_after:
        return True
    return await session.get(RevokedToken, claims.token_id) is not None


def revoke_all_tokens(user: User) -> None:
    """Revoke every access token ``user`` holds now (the caller commits)."""
    user.tokens_valid_after = utcnow()

"""Access tokens revoked before they expire (``POST /auth/logout``)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp


class RevokedToken(SQLModel, table=True):
    """The id of a revoked access token, kept until the token would have expired anyway.

    Attributes:
        token_id: The token's ``jti``.
        expires_at: The token's own expiry: past it the row is of no use.
    """

    __tablename__ = "revoked_tokens"

    token_id: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = timestamp(index=True)

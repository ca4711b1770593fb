"""API keys: long-lived bearer credentials, stored only as a hash."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp, utcnow


class Scope(StrEnum):
    """What an API key may be used for, on top of what its user's role allows.

    ``read`` reads (every ``GET``); ``run`` starts and steers runs (starting,
    signals, pause, cancel, retries, reruns, triggering schedules, publishing
    events); ``manage`` changes everything else (workflows, triggers, secrets,
    templates, circuit breakers, users, keys) and uses the codec.
    """

    READ = "read"
    RUN = "run"
    MANAGE = "manage"


ALL_SCOPES = [Scope.READ, Scope.RUN, Scope.MANAGE]
"""A key created without ``scopes`` may do all its user may, as keys did before scopes."""


class ApiKeyBase(SQLModel):
    """What an API key's owner chooses: its name."""

    name: str = Field(default="", max_length=100)


class ApiKeyCreate(ApiKeyBase):
    """A new API key: an optional name, scopes and expiry; the key itself is generated."""

    scopes: list[Scope] = Field(
        default_factory=lambda: list(ALL_SCOPES), min_length=1, max_length=len(ALL_SCOPES)
    )
    expires_at: datetime | None = Field(
        default=None, description="When the key stops working (with a time zone); never if null."
    )

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2030-01-01T00:00:00Z")
        if value <= utcnow():
            raise ValueError("is in the past: give a time to come, or null for no expiry")
        return value

    @field_validator("scopes")
    @classmethod
    def _unique(cls, value: list[Scope]) -> list[Scope]:
        return sorted(set(value), key=ALL_SCOPES.index)


class ApiKey(ApiKeyBase, table=True):
    """An API key of a user, the key itself kept only as a hash.

    Attributes:
        key_hash: See :func:`app.security.hash_api_key`.
        prefix: The key's first characters, so that its owner can tell keys apart.
        scopes: What the key may be used for (see :class:`Scope`).
        expires_at: When the key stops working; never if None.
    """

    __tablename__ = "api_keys"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = timestamp()
    scopes: list[str] = Field(default_factory=lambda: list(ALL_SCOPES), sa_type=ARRAY(String(16)))
    expires_at: datetime | None = timestamp(nullable=True)

    def allows(self, scope: Scope) -> bool:
        """Whether this key may be used for ``scope``."""
        return scope.value in self.scopes


class ApiKeyPublic(ApiKeyBase):
    """An API key as the API shows it: of the key itself only its first characters."""

    id: uuid.UUID
    prefix: str = Field(max_length=16)
    created_at: datetime
    scopes: list[Scope]
    expires_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    """The answer to a key creation: the only time ``key`` is ever shown."""

    key: str = Field(max_length=100)

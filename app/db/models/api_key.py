"""API keys: long-lived bearer credentials, stored only as a hash."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp


class ApiKeyBase(SQLModel):
    """What an API key's owner chooses: its name."""

    name: str = Field(default="", max_length=100)


class ApiKeyCreate(ApiKeyBase):
    """A new API key: an optional name; the key itself is generated."""


class ApiKey(ApiKeyBase, table=True):
    """An API key of a user, the key itself kept only as a hash.

    Attributes:
        key_hash: See :func:`app.security.hash_api_key`.
        prefix: The key's first characters, so that its owner can tell keys apart.
    """

    __tablename__ = "api_keys"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = timestamp()


class ApiKeyPublic(ApiKeyBase):
    """An API key as the API shows it: of the key itself only its first characters."""

    id: uuid.UUID
    prefix: str = Field(max_length=16)
    created_at: datetime


class ApiKeyCreated(ApiKeyPublic):
    """The answer to a key creation: the only time ``key`` is ever shown."""

    key: str = Field(max_length=100)

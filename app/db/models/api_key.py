"""API keys: long-lived bearer credentials, stored only as a hash."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp


class ApiKeyBase(SQLModel):
    name: str = Field(default="", max_length=100)


class ApiKeyCreate(ApiKeyBase):
    pass


class ApiKey(ApiKeyBase, table=True):
    __tablename__ = "api_keys"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = timestamp()


class ApiKeyPublic(ApiKeyBase):
    id: uuid.UUID
    prefix: str = Field(max_length=16)
    created_at: datetime


class ApiKeyCreated(ApiKeyPublic):
    """The answer to a key creation: the only time ``key`` is ever shown."""

    key: str = Field(max_length=100)

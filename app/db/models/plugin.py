"""Plugins: named, versioned script code a ``script`` node runs by reference."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp

PLUGIN_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,99}$"
"""Lower case, so ``name@1.2.0`` reads the same however it was typed; no ``@``."""

MAX_PLUGIN_CODE_CHARS = 262_144
"""As for a script node's inline ``code``."""


class Plugin(SQLModel, table=True):
    """One immutable version of a user's plugin.

    Attributes:
        major, minor, patch: The version's numbers, for ordering in SQL.
        deprecated_at: When its owner deprecated it: a pinned run keeps
            running it, but ranges no longer resolve to it.
    """

    __tablename__ = "plugins"
    __table_args__ = (
        UniqueConstraint("owner_id", "name", "version", name="uq_plugins_owner_name_version"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    version: str = Field(max_length=100)
    major: int
    minor: int
    patch: int
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    code: str = Field(sa_column=Column(Text, nullable=False))
    input_schema: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    output_schema: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    created_at: datetime = timestamp()
    deprecated_at: datetime | None = timestamp(nullable=True)

"""Column helpers shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlmodel import Field


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def timestamp(*, nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware timestamp column; non-nullable ones default to now."""
    if nullable:
        return Field(default=None, sa_type=DateTime(timezone=True), nullable=True, index=index)
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), index=index)

"""Keyset pagination over ``(created_at, id)``, newest first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, tuple_
from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar


@dataclass(frozen=True)
class Position:
    """Where a page ended: the last row's creation time and id."""

    created_at: datetime
    id: uuid.UUID


class _Keyed(Protocol):
    created_at: datetime
    id: uuid.UUID


R = TypeVar("R", bound=_Keyed)


def newest_first(
    statement: SelectOfScalar[R], model: Any, after: Position | None
) -> SelectOfScalar[R]:
    """Order ``statement`` newest first and start it after ``after``."""
    if after is not None:
        statement = statement.where(
            tuple_(col(model.created_at), col(model.id)) < tuple_(after.created_at, after.id)
        )
    return statement.order_by(col(model.created_at).desc(), col(model.id).desc())


def split_page(rows: Sequence[R], limit: int) -> tuple[list[R], Position | None]:
    """The first ``limit`` rows, and the position to continue from if there are more.

    Callers fetch ``limit + 1`` rows so the extra one tells whether a next page exists.
    """
    page = list(rows[:limit])
    more = len(rows) > limit
    return page, (Position(page[-1].created_at, page[-1].id) if more and page else None)


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, case-insensitively; ``%`` and ``_`` are plain characters."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return col(column).ilike(f"%{escaped}%", escape="\\")

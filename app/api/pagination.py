"""``?limit=&cursor=`` parameters and the ``{"items", "next_cursor"}`` envelope.

Cursors are opaque to clients: base64url of a small JSON position
(PostgreSQL keyset), or of Temporal's page token sealed with an HMAC over the
token and the query it belongs to, so a forged or reused-with-other-filters
cursor is a 400 here instead of an error (and retries) inside Temporal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from app.api.deps import StateDep
from app.db.crud.pages import Position
from app.errors import ApiError

T = TypeVar("T")

MAX_LIMIT = 200

Cursor = Annotated[
    str | None,
    Query(max_length=4096, description="`next_cursor` of the previous page."),
]


def page_size(
    state: StateDep,
    limit: Annotated[
        int | None, Query(ge=1, le=MAX_LIMIT, description="Page size (1-200, default 50).")
    ] = None,
) -> int:
    """``limit``, else the configured default; never over the configured maximum or 200."""
    settings = state.settings
    return min(limit or settings.page_size_default, settings.page_size_max, MAX_LIMIT)


PageSize = Annotated[int, Depends(page_size)]


class Page(BaseModel, Generic[T]):
    """One page of a list.

    Attributes:
        next_cursor: Pass it as ``cursor`` for the next page; null at the end of the list.
    """

    items: list[T]
    next_cursor: str | None = None


def _bad_cursor() -> ApiError:
    return ApiError(400, "cursor is invalid: pass the next_cursor of a previous page unchanged")


_MAC_BYTES = 16


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _decode(cursor: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(cursor.encode())
    except (binascii.Error, ValueError):
        raise _bad_cursor() from None


def _mac(key: bytes, scope: str, token: bytes) -> bytes:
    return hmac.new(key, scope.encode() + b"\0" + token, hashlib.sha256).digest()[:_MAC_BYTES]


def seal_token(token: bytes | None, *, key: bytes, scope: str) -> str | None:
    """A cursor for Temporal's page ``token`` of the query ``scope``."""
    return _encode(_mac(key, scope, token) + token) if token else None


def unseal_token(cursor: str | None, *, key: bytes, scope: str) -> bytes | None:
    """The page token inside ``cursor``, if it was sealed here for ``scope``."""
    if not cursor:
        return None
    raw = _decode(cursor)
    mac, token = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if not token or not hmac.compare_digest(mac, _mac(key, scope, token)):
        raise ApiError(
            400,
            "cursor is invalid: pass the next_cursor of a previous page unchanged, "
            "with the same filters",
        )
    return token


def encode_position(position: Position | None) -> str | None:
    """The cursor of the page after ``position`` (None when there is no next page)."""
    if position is None:
        return None
    raw = json.dumps({"t": position.created_at.isoformat(), "i": str(position.id)})
    return _encode(raw.encode())


def decode_position(cursor: str | None) -> Position | None:
    """The keyset position inside ``cursor`` (None for the first page).

    Raises:
        ApiError: 400 for a cursor that is not a ``next_cursor`` handed out here.
    """
    if not cursor:
        return None
    try:
        data = json.loads(_decode(cursor))
        return Position(datetime.fromisoformat(data["t"]), uuid.UUID(data["i"]))
    except (ValueError, KeyError, TypeError):
        raise _bad_cursor() from None

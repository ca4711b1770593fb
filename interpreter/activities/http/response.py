"""Read a response of an ``http`` or ``webhook`` node: status check, capped body, parsing.

An unexpected status becomes an :class:`~interpreter.errors.HttpStatusError`
carrying what the upstream said (status, body excerpt, ``Retry-After``);
whether and when it is retried is decided by
:func:`interpreter.activities.base.to_application_error`.
"""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from interpreter.activities.outbound import redacted
from interpreter.errors import HttpStatusError, ResponseInvalid, ResponseTooLarge

EXCERPT_CHARS = 512
_EXCERPT_BYTES = 4 * EXCERPT_CHARS
_RETRY_AFTER_STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` value (delay-seconds or HTTP-date) asks to wait."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def read_capped(response: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    """Read the (decoded) body, refusing, or with ``truncate`` cutting, past ``limit`` bytes.

    Raises:
        ResponseTooLarge: the body is over ``limit`` and ``truncate`` is False.
    """
    declared = response.headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        raise _too_large(response, limit)
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            if truncate:
                return bytes(body[:limit])
            raise _too_large(response, limit)
    return bytes(body)


def _too_large(response: httpx.Response, limit: int) -> ResponseTooLarge:
    return ResponseTooLarge(
        f"response of {redacted(response.request.url)} is over {limit} bytes; raise "
        "max_response_bytes or ask the API for less",
        details={"status": response.status_code, "max_response_bytes": limit},
    )


def _text(raw: bytes, response: httpx.Response) -> str:
    return raw.decode(response.encoding or "utf-8", errors="replace")


def parse_body(raw: bytes, response: httpx.Response, mode: Literal["json", "text", "auto"]) -> Any:
    """The body as JSON or text; ``auto`` trusts a JSON content type, else text.

    Raises:
        ResponseInvalid: ``mode`` is ``json`` and the body is not JSON.
    """
    if mode == "text":
        return _text(raw, response)
    if not raw:
        return None
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if mode == "auto" and not (content_type.endswith("/json") or content_type.endswith("+json")):
        return _text(raw, response)
    try:
        return json.loads(raw)
    except ValueError as exc:
        if mode == "auto":
            return _text(raw, response)
        raise ResponseInvalid(
            f"response of {redacted(response.request.url)} is not JSON ({exc}); "
            "set response: text or auto",
            details={"status": response.status_code},
        ) from None


async def check_status(response: httpx.Response, expect_status: list[int] | None) -> None:
    """Accept a status in ``expect_status`` (any 2xx if unset).

    Raises:
        HttpStatusError: any other status, quoting the start of the body; on
            429 and 503 with the seconds ``Retry-After`` asks to wait.
    """
    status = response.status_code
    expected = status in expect_status if expect_status else 200 <= status < 300
    if expected:
        return
    excerpt = _text(await read_capped(response, _EXCERPT_BYTES, truncate=True), response)
    excerpt = excerpt[:EXCERPT_CHARS]
    retry_after = (
        retry_after_seconds(response.headers.get("retry-after"))
        if status in _RETRY_AFTER_STATUSES
        else None
    )
    request = response.request
    raise HttpStatusError(
        f"{request.method} {redacted(request.url)} answered {status}: {excerpt}",
        status=status,
        retry_after=retry_after,
        details={"status": status, "body": excerpt, "url": redacted(request.url)},
    )

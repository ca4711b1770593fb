"""Temporal's refusals of a schedule spec, as 422s that name the field at fault."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.service import RPCError, RPCStatusCode

from app.errors import ApiError, ErrorItem


def _field(message: str) -> str:
    lowered = message.lower()
    if "time zone" in lowered or "timezone" in lowered:
        return "timezone"
    if "interval" in lowered:
        return "interval"
    return "cron"


@asynccontextmanager
async def refused_spec() -> AsyncIterator[None]:
    """Turn Temporal's ``INVALID_ARGUMENT`` about the spec into a 422 on its field.

    The API checks cron, interval and time zone itself first; this catches
    what only Temporal knows (e.g. a day that no month has).
    """
    try:
        yield
    except RPCError as exc:
        if exc.status != RPCStatusCode.INVALID_ARGUMENT:
            raise
        field = _field(exc.message)
        raise ApiError(
            422,
            f"Temporal refused the schedule's {field}: {exc.message}",
            errors=[ErrorItem(path=f"/body/{field}", code="invalid_schedule", message=exc.message)],
        ) from None

"""What a ``webhook`` node records of each delivery attempt, and how.

The protocol is the interpreter's; a recorder (the worker's writes to
PostgreSQL) implements it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from interpreter.errors import HttpStatusError, NodeFailure

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000


class DeliveryRecord(BaseModel):
    """One delivery attempt of a ``webhook`` node.

    Attributes:
        delivery_id: The ``X-Delivery-Id`` sent; the same on every attempt.
        url: The destination without credentials or query (they may hold secrets).
        status: The HTTP status answered; None if no response came.
        error_type: The error class (``HttpStatusError``, ``HttpNetworkError``,
            ``EgressDenied``, ``Cancelled``); None if delivered.
        error: The error's message, cut at ``MAX_ERROR_CHARS``; None if delivered.
        latency_ms: From sending to the response's headers or the failure.
        at: When the attempt started (UTC).
    """

    delivery_id: str = Field(max_length=64)
    run_id: str
    node_id: str
    node_path: str
    attempt: int = Field(ge=1)
    url: str = Field(max_length=8192)
    status: int | None = None
    error_type: str | None = Field(default=None, max_length=100)
    error: str | None = Field(default=None, max_length=MAX_ERROR_CHARS)
    latency_ms: float = Field(ge=0)
    at: datetime


class DeliveryRecorder(Protocol):
    """Keeps delivery attempts; the worker's writes them to PostgreSQL."""

    async def record(self, delivery: DeliveryRecord) -> None:
        """Store one attempt. May raise; the webhook node logs it and carries on."""
        ...


def finished(
    record: DeliveryRecord,
    started: float,
    *,
    status: int | None = None,
    failure: NodeFailure | None = None,
    cancelled: bool = False,
) -> DeliveryRecord:
    """``record`` completed with how the attempt ended; ``started`` is ``time.monotonic()``."""
    error_type = error = None
    if cancelled:
        error_type, error = "Cancelled", "the attempt was cancelled"
    elif failure is not None:
        error_type, error = type(failure).__name__, str(failure)[:MAX_ERROR_CHARS]
        if isinstance(failure, HttpStatusError):
            status = failure.status
    return record.model_copy(
        update={
            "status": status,
            "error_type": error_type,
            "error": error,
            "latency_ms": round((time.monotonic() - started) * 1000, 3),
        }
    )


async def record_attempt(
    recorder: DeliveryRecorder, record: DeliveryRecord, seconds: float
) -> None:
    """Hand ``record`` to ``recorder``; a failure or a hang past ``seconds`` is only logged."""
    try:
        async with asyncio.timeout(seconds):
            await recorder.record(record)
    except Exception:
        log.warning(
            "could not record attempt %d of webhook delivery %s of node %r in run %s",
            record.attempt,
            record.delivery_id,
            record.node_id,
            record.run_id,
            exc_info=True,
        )

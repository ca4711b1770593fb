"""Circuit breakers around the calls of http and webhook nodes.

A breaker per service key (the node's ``circuit_breaker``, else the
destination's host) is shared by every worker; the worker's implementation
keeps it in PostgreSQL. States::

    closed ──(failure_threshold consecutive failures)──> open
    open ──(reset_timeout passed; a call asks)──> half_open (probes let through)
    half_open ──(a probe succeeds)──> closed
    half_open ──(a probe fails)──> open (the reset timeout starts again)

While open, calls fail fast with :class:`~interpreter.errors.CircuitOpen`.
Failures are what says the service is unwell: no response, a timeout, 5xx,
408 and 429. Any other answer (4xx caused by the request, a body too large)
is a success; a call that never reached the service (refused by the SSRF
guard) counts as neither. The breaker store failing never fails a call:
the call goes through unguarded and the problem is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from interpreter.errors import (
    CircuitOpen,
    HttpNetworkError,
    HttpStatusError,
    NodeFailure,
    ResponseInvalid,
    ResponseTooLarge,
)

log = logging.getLogger(__name__)

STORE_TIMEOUT = 5.0
"""Seconds one breaker store call may take before the call goes on without it."""

Outcome = Literal["success", "failure", "neither"]


@dataclass(frozen=True)
class Permit:
    """Leave to make one call.

    Attributes:
        service: The breaker's key.
        probe: The call is a half-open probe: its outcome closes or re-opens
            the breaker.
    """

    service: str
    probe: bool = False


class CircuitBreakers(Protocol):
    """The shared breaker states."""

    async def allow(self, service: str) -> Permit:
        """Leave to call ``service`` now.

        Raises:
            CircuitOpen: the breaker is open, or half-open with every probe
                slot taken.
        """
        ...

    async def report(self, permit: Permit, outcome: Outcome) -> None:
        """How the permitted call went (``neither``: it never reached the service)."""
        ...


def outcome_of(failure: NodeFailure) -> Outcome:
    """What a failed call says about the service's health."""
    if isinstance(failure, HttpNetworkError):
        return "failure"
    if isinstance(failure, HttpStatusError):
        status = failure.status or 0
        return "failure" if status >= 500 or status in (408, 429) else "success"
    if isinstance(failure, ResponseTooLarge | ResponseInvalid):
        return "success"
    return "neither"


@contextlib.asynccontextmanager
async def guarded(breakers: CircuitBreakers | None, service: str) -> AsyncIterator[None]:
    """Run the block under ``service``'s breaker; without breakers, just run it.

    Raises:
        CircuitOpen: before the block runs, when the breaker refuses the call.
    """
    permit = await _allow(breakers, service) if breakers is not None else None
    if breakers is None or permit is None:
        yield
        return
    try:
        yield
    except NodeFailure as failure:
        await _report(breakers.report, permit, outcome_of(failure))
        raise
    except BaseException:
        # Cancelled mid-call: give a probe slot back even while being cancelled.
        await asyncio.shield(_report(breakers.report, permit, "neither"))
        raise
    await _report(breakers.report, permit, "success")


async def _allow(breakers: CircuitBreakers, service: str) -> Permit | None:
    try:
        async with asyncio.timeout(STORE_TIMEOUT):
            return await breakers.allow(service)
    except CircuitOpen:
        raise
    except Exception:
        log.warning("circuit breaker %r unavailable; calling unguarded", service, exc_info=True)
        return None


async def _report(
    report: Callable[[Permit, Outcome], Awaitable[None]], permit: Permit, outcome: Outcome
) -> None:
    try:
        async with asyncio.timeout(STORE_TIMEOUT):
            await report(permit, outcome)
    except Exception:
        log.warning(
            "could not record a %s of service %r on its circuit breaker",
            outcome,
            permit.service,
            exc_info=True,
        )

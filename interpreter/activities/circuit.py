"""Circuit breakers around the calls of http and webhook nodes.

A breaker belongs to the run's owner: what one user's calls do to it
neither opens nor shows on another user's. The node's ``circuit_breaker``
names one of the owner's breakers; without it the call counts on the owner's
implicit breaker of its destination, keyed ``scheme://host:port``
(:func:`breaker_key`). ``shared:NAME`` names the breaker an admin defined for
everyone instead; there is no such breaker until an admin configures it, and
a node naming a missing one fails with a :class:`~interpreter.errors.ConfigError`.
Every worker sees the same states; the worker's implementation keeps them in
PostgreSQL. States::

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

import httpx

from interpreter.dsl.node_config import config_error
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

SHARED_PREFIX = "shared:"
"""A ``circuit_breaker`` starting with it names an admin-defined shared breaker."""

_DEFAULT_PORTS = {"http": 80, "https": 443}

Outcome = Literal["success", "failure", "neither"]


@dataclass(frozen=True)
class BreakerKey:
    """Which breaker a call counts on.

    Attributes:
        service: The breaker's name within its owner's (or the shared) namespace:
            a node's ``circuit_breaker`` without the ``shared:`` prefix, or
            ``scheme://host:port``.
        owner: The run owner whose breaker it is; None for a shared breaker.
    """

    service: str
    owner: str | None

    @property
    def shared(self) -> bool:
        """An admin-defined breaker every user's calls count on."""
        return self.owner is None

    @property
    def name(self) -> str:
        """The key as a node names it and the API addresses it (``shared:NAME`` if shared)."""
        return f"{SHARED_PREFIX}{self.service}" if self.shared else self.service

    @classmethod
    def parse(cls, name: str, owner: str) -> BreakerKey:
        """The breaker ``name`` means for ``owner``: a shared one with the prefix, else theirs."""
        if name.startswith(SHARED_PREFIX):
            return cls(name.removeprefix(SHARED_PREFIX), None)
        return cls(name, owner)


def destination(url: httpx.URL) -> str:
    """``url``'s destination as an implicit breaker's name: ``https://api.example.com:443``.

    The port is always written, so two services on one host never share a breaker.
    """
    host = url.raw_host.decode("ascii").lower()
    if ":" in host:
        host = f"[{host}]"
    port = url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme, 0)
    return f"{url.scheme}://{host}:{port}"


def breaker_key(owner: str, named: str | None, url: httpx.URL) -> BreakerKey:
    """The breaker a call to ``url`` counts on.

    ``named`` (a node's ``circuit_breaker``) if set, else the owner's implicit
    breaker of the destination.
    """
    return BreakerKey.parse(named, owner) if named else BreakerKey(destination(url), owner)


@dataclass(frozen=True)
class Permit:
    """Leave to make one call.

    Attributes:
        breaker: The breaker's key.
        probe: The call is a half-open probe: its outcome closes or re-opens
            the breaker.
    """

    breaker: BreakerKey
    probe: bool = False


class UnknownSharedBreaker(LookupError):
    """A node names a shared breaker (``shared:NAME``) that no admin has defined."""


class CircuitBreakers(Protocol):
    """The breaker states every worker shares."""

    async def allow(self, breaker: BreakerKey) -> Permit:
        """Leave to call through ``breaker`` now.

        Raises:
            CircuitOpen: the breaker is open, or half-open with every probe
                slot taken.
            UnknownSharedBreaker: ``breaker`` is shared and no admin defined it.
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
async def guarded(
    breakers: CircuitBreakers | None, breaker: BreakerKey, node_id: str = ""
) -> AsyncIterator[None]:
    """Run the block under ``breaker``; without breakers, just run it.

    Raises:
        CircuitOpen: before the block runs, when the breaker refuses the call.
        ConfigError: naming the node, when ``breaker`` is a shared one no admin defined.
    """
    permit = await _allow(breakers, breaker, node_id) if breakers is not None else None
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


async def _allow(breakers: CircuitBreakers, breaker: BreakerKey, node_id: str) -> Permit | None:
    try:
        async with asyncio.timeout(STORE_TIMEOUT):
            return await breakers.allow(breaker)
    except CircuitOpen:
        raise
    except UnknownSharedBreaker:
        raise config_error(
            node_id,
            "circuit_breaker",
            f"no shared circuit breaker {breaker.name!r}: an admin defines it with "
            f"PUT /api/v1/circuit-breakers/{breaker.name}/config, or name it without "
            f"{SHARED_PREFIX!r} to use a breaker of your own",
        ) from None
    except Exception:
        log.warning(
            "circuit breaker %r unavailable; calling unguarded", breaker.name, exc_info=True
        )
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
            permit.breaker.name,
            exc_info=True,
        )

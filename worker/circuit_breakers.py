"""Circuit breakers shared by every worker, kept in PostgreSQL's ``circuit_breakers`` table.

A row is one breaker: ``service`` within its ``owner``'s namespace, or a
shared breaker an admin defined (``owner`` NULL). Workers create only
owners' rows, never shared ones. Each transition is one atomic statement
whose ``WHERE`` states the state it starts from, so concurrent workers never
lose an update (no read, decide, write): PostgreSQL re-checks the condition
on the newest row version when two statements meet. Rows appear on the
first failure (or when the API configures one). States and outcomes are
described in :mod:`interpreter.activities.circuit`.

A worker remembers for ``cache_seconds`` that a breaker is closed (see
:class:`PostgresCircuitBreakers`), so a healthy service costs no query per
call; every failure is still written at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from interpreter.activities.circuit import BreakerKey, Outcome, Permit, UnknownSharedBreaker
from interpreter.errors import CircuitOpen

# $1 is the service, $2 the owner (NULL: the shared breaker of that name).
_ROW = "service = $1 AND owner IS NOT DISTINCT FROM $2::text"

_READ = f"""
SELECT state, failures, reset_timeout,
       EXTRACT(EPOCH FROM opened_at + make_interval(secs => reset_timeout) - now())::float8
           AS wait
FROM circuit_breakers WHERE {_ROW}
"""

# An open breaker whose reset timeout passed, or a half-open one with a free
# probe slot, lets this call through as a probe. A half-open breaker whose
# probes have not reported for a reset timeout (their worker died) starts over.
_TAKE_PROBE = f"""
UPDATE circuit_breakers SET
    half_open_calls = CASE
        WHEN state = 'half_open' AND now() < updated_at + make_interval(secs => reset_timeout)
        THEN half_open_calls + 1 ELSE 1 END,
    state = 'half_open',
    updated_at = now()
WHERE {_ROW} AND (
    (state = 'open' AND now() >= opened_at + make_interval(secs => reset_timeout))
    OR (state = 'half_open' AND (
        half_open_calls < half_open_max_calls
        OR now() >= updated_at + make_interval(secs => reset_timeout))))
RETURNING half_open_calls
"""

_CREATE = """
INSERT INTO circuit_breakers (service, owner) VALUES ($1, $2::text)
ON CONFLICT (service, owner) DO NOTHING
"""

_COUNT_FAILURE = f"""
UPDATE circuit_breakers SET
    failures = failures + 1,
    state = CASE WHEN state = 'closed' AND failures + 1 >= failure_threshold
                 THEN 'open' ELSE state END,
    opened_at = CASE WHEN state = 'closed' AND failures + 1 >= failure_threshold
                     THEN now() ELSE opened_at END,
    updated_at = now()
WHERE {_ROW}
"""

_PROBE_FAILED = f"""
UPDATE circuit_breakers SET
    state = 'open', opened_at = now(), half_open_calls = 0,
    failures = failures + 1, updated_at = now()
WHERE {_ROW} AND state = 'half_open'
"""

_PROBE_SUCCEEDED = f"""
UPDATE circuit_breakers SET
    state = 'closed', failures = 0, half_open_calls = 0, opened_at = NULL, updated_at = now()
WHERE {_ROW} AND state = 'half_open'
"""

_SUCCEEDED = f"""
UPDATE circuit_breakers SET failures = 0, updated_at = now()
WHERE {_ROW} AND state = 'closed' AND failures > 0
"""

_PROBE_RELEASED = f"""
UPDATE circuit_breakers SET half_open_calls = greatest(half_open_calls - 1, 0), updated_at = now()
WHERE {_ROW} AND state = 'half_open'
"""


CACHED_BREAKERS = 10_000
"""Closed breakers a worker remembers at most; the oldest is forgotten first."""


@dataclass
class _Closed:
    """A breaker read closed: until when that may be trusted, and its failure count then."""

    until: float
    failures: int


class PostgresCircuitBreakers:
    """A :class:`~interpreter.activities.circuit.CircuitBreakers` over PostgreSQL.

    Every http and webhook call asked PostgreSQL whether its breaker was
    closed and, on success, tried to reset its failure count: two queries
    per call to learn, almost always, that nothing changed. A breaker read
    closed is therefore trusted for ``cache_seconds``: its calls go out and
    their successes are not written while the count read was 0. What stays
    exact: every failure is written at once and forgets the remembered
    state, so the failure that opens a breaker makes this worker read it
    (open) on its next call; open and half-open states are never remembered,
    so probes and refusals are decided by PostgreSQL as before. What a cache
    costs: a breaker another worker opened, or an admin reconfigured, is
    seen here within ``cache_seconds``; and a success within them does not
    reset failures another worker counted meanwhile, so the breaker may open
    on failures that were not strictly consecutive (early, never late).

    Args:
        pool: A pool on the API's database (migrated): the worker's bounded one
            (:class:`worker.database.BoundedPool`, whose calls raise
            ``StoreUnavailable`` past their timeouts), or any asyncpg pool.
        cache_seconds: How long a breaker read closed is trusted; 0 reads on every call.
    """

    def __init__(self, pool: Any, *, cache_seconds: float = 0.0) -> None:
        self._pool = pool
        self._cache_seconds = cache_seconds
        self._closed: dict[BreakerKey, _Closed] = {}
        # Bumped by every failure: a read that a failure overtook is not remembered,
        # since it may predate the failure that opened the breaker.
        self._failures_reported = 0

    def _remembered(self, breaker: BreakerKey) -> _Closed | None:
        closed = self._closed.get(breaker)
        if closed is not None and closed.until <= time.monotonic():
            del self._closed[breaker]
            return None
        return closed

    def _remember(self, breaker: BreakerKey, failures: int, reported_before: int) -> None:
        if self._cache_seconds <= 0 or reported_before != self._failures_reported:
            return
        self._closed.pop(breaker, None)  # re-inserted last: the dict is oldest first
        if len(self._closed) >= CACHED_BREAKERS:
            del self._closed[next(iter(self._closed))]
        self._closed[breaker] = _Closed(time.monotonic() + self._cache_seconds, failures)

    async def allow(self, breaker: BreakerKey) -> Permit:
        """Leave to call through ``breaker``; see the protocol.

        Raises:
            CircuitOpen: with ``retry_after`` the time left until a probe may go.
            UnknownSharedBreaker: no admin defined the shared ``breaker``.
        """
        if self._remembered(breaker) is not None:
            return Permit(breaker)
        where = (breaker.service, breaker.owner)
        reported_before = self._failures_reported
        row = await self._pool.fetchrow(_READ, *where)
        if row is None and breaker.shared:
            raise UnknownSharedBreaker(breaker.name)
        if row is None or row["state"] == "closed":
            self._remember(breaker, row["failures"] if row else 0, reported_before)
            return Permit(breaker)
        if row["state"] == "open" and (row["wait"] or 0.0) > 0:
            raise _refusal(breaker, row, row["wait"])
        if await self._pool.fetchrow(_TAKE_PROBE, *where) is not None:
            return Permit(breaker, probe=True)
        # Another worker took the last probe slot, or closed the breaker meanwhile.
        row = await self._pool.fetchrow(_READ, *where)
        if row is None or row["state"] == "closed":
            return Permit(breaker)
        if row["state"] == "open" and (row["wait"] or 0.0) > 0:
            raise _refusal(breaker, row, row["wait"])
        # Half-open with every probe slot taken: a probe decides within a reset timeout.
        raise _refusal(breaker, row, row["reset_timeout"])

    async def report(self, permit: Permit, outcome: Outcome) -> None:
        """Count the permitted call's outcome; see the protocol."""
        breaker = permit.breaker
        if outcome == "success" and not permit.probe:
            closed = self._remembered(breaker)
            if closed is not None and closed.failures == 0:
                return  # nothing to reset
            await self._pool.execute(_SUCCEEDED, breaker.service, breaker.owner)
            if closed is not None:
                closed.failures = 0
        elif outcome == "failure":
            # Forgotten before and after the write: a read in flight meanwhile may
            # predate the failure, so it is not remembered either.
            self._forget(breaker)
            try:
                await self._count_failure(permit)
            finally:
                self._forget(breaker)
        elif outcome == "success":
            await self._pool.execute(_PROBE_SUCCEEDED, breaker.service, breaker.owner)
        elif permit.probe:
            await self._pool.execute(_PROBE_RELEASED, breaker.service, breaker.owner)

    def _forget(self, breaker: BreakerKey) -> None:
        self._failures_reported += 1
        self._closed.pop(breaker, None)

    async def _count_failure(self, permit: Permit) -> None:
        breaker = permit.breaker
        where = (breaker.service, breaker.owner)
        if permit.probe:
            await self._pool.execute(_PROBE_FAILED, *where)
        elif breaker.shared:
            await self._pool.execute(_COUNT_FAILURE, *where)  # only an admin creates shared rows
        else:
            async with self._pool.acquire() as connection:
                await connection.execute(_CREATE, *where)
                await connection.execute(_COUNT_FAILURE, *where)


def _refusal(breaker: BreakerKey, row: Any, wait: float) -> CircuitOpen:
    state = str(row["state"]).replace("_", "-")
    until = (datetime.now(UTC) + timedelta(seconds=wait)).strftime("%Y-%m-%dT%H:%M:%SZ")
    route = f"/api/v1/circuit-breakers/{breaker.name}"
    if breaker.shared:
        whose = "the shared breaker an admin defined, counting every user's calls"
        manage = f"see GET {route}; an admin can reset it: POST {route}/reset"
    else:
        whose = "a breaker of your workflows' own, which other users' calls never touch"
        manage = f"see GET {route}, or reset it: POST {route}/reset"
    return CircuitOpen(
        f"circuit breaker {breaker.name!r} is {state} after {row['failures']} consecutive "
        f"failure(s) ({whose}), so the request was not sent; it refuses calls until {until} "
        f"(the next try may go in {wait:.1f}s); {manage}",
        retry_after=wait,
        details={
            "service": breaker.name,
            "shared": breaker.shared,
            "state": row["state"],
            "retry_after": wait,
        },
    )

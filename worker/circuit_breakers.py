"""Circuit breakers shared by every worker, kept in PostgreSQL's ``circuit_breakers`` table.

A row is one breaker: ``service`` within its ``owner``'s namespace, or a
shared breaker an admin defined (``owner`` NULL). Workers create only
owners' rows, never shared ones. Each transition is one atomic statement
whose ``WHERE`` states the state it starts from, so concurrent workers never
lose an update (no read, decide, write): PostgreSQL re-checks the condition
on the newest row version when two statements meet. A closed breaker costs
one read per call; rows appear on the first failure (or when the API
configures one). States and outcomes are described in
:mod:`interpreter.activities.circuit`.
"""

from __future__ import annotations

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


class PostgresCircuitBreakers:
    """A :class:`~interpreter.activities.circuit.CircuitBreakers` over PostgreSQL.

    Args:
        pool: A pool on the API's database (migrated): the worker's bounded one
            (:class:`worker.database.BoundedPool`, whose calls raise
            ``StoreUnavailable`` past their timeouts), or any asyncpg pool.
    """

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def allow(self, breaker: BreakerKey) -> Permit:
        """Leave to call through ``breaker``; see the protocol.

        Raises:
            CircuitOpen: with ``retry_after`` the time left until a probe may go.
            UnknownSharedBreaker: no admin defined the shared ``breaker``.
        """
        where = (breaker.service, breaker.owner)
        row = await self._pool.fetchrow(_READ, *where)
        if row is None and breaker.shared:
            raise UnknownSharedBreaker(breaker.name)
        if row is None or row["state"] == "closed":
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
        where = (breaker.service, breaker.owner)
        if outcome == "failure" and permit.probe:
            await self._pool.execute(_PROBE_FAILED, *where)
        elif outcome == "failure" and breaker.shared:
            await self._pool.execute(_COUNT_FAILURE, *where)  # only an admin creates shared rows
        elif outcome == "failure":
            async with self._pool.acquire() as connection:
                await connection.execute(_CREATE, *where)
                await connection.execute(_COUNT_FAILURE, *where)
        elif outcome == "success":
            await self._pool.execute(_PROBE_SUCCEEDED if permit.probe else _SUCCEEDED, *where)
        elif permit.probe:
            await self._pool.execute(_PROBE_RELEASED, *where)


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

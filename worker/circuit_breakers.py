"""Circuit breakers shared by every worker, kept in PostgreSQL's ``circuit_breakers`` table.

Each transition is one atomic statement whose ``WHERE`` states the state it
starts from, so concurrent workers never lose an update (no read, decide,
write): PostgreSQL re-checks the condition on the newest row version when
two statements meet. A closed breaker costs one read per call; rows appear
on the first failure (or when the API configures one). States and outcomes
are described in :mod:`interpreter.activities.circuit`.
"""

from __future__ import annotations

from typing import Any

from interpreter.activities.circuit import Outcome, Permit
from interpreter.errors import CircuitOpen

_READ = """
SELECT state, failures, reset_timeout,
       EXTRACT(EPOCH FROM opened_at + make_interval(secs => reset_timeout) - now())::float8
           AS wait
FROM circuit_breakers WHERE service = $1
"""

# An open breaker whose reset timeout passed, or a half-open one with a free
# probe slot, lets this call through as a probe. A half-open breaker whose
# probes have not reported for a reset timeout (their worker died) starts over.
_TAKE_PROBE = """
UPDATE circuit_breakers SET
    half_open_calls = CASE
        WHEN state = 'half_open' AND now() < updated_at + make_interval(secs => reset_timeout)
        THEN half_open_calls + 1 ELSE 1 END,
    state = 'half_open',
    updated_at = now()
WHERE service = $1 AND (
    (state = 'open' AND now() >= opened_at + make_interval(secs => reset_timeout))
    OR (state = 'half_open' AND (
        half_open_calls < half_open_max_calls
        OR now() >= updated_at + make_interval(secs => reset_timeout))))
RETURNING half_open_calls
"""

_CREATE = "INSERT INTO circuit_breakers (service) VALUES ($1) ON CONFLICT (service) DO NOTHING"

_COUNT_FAILURE = """
UPDATE circuit_breakers SET
    failures = failures + 1,
    state = CASE WHEN state = 'closed' AND failures + 1 >= failure_threshold
                 THEN 'open' ELSE state END,
    opened_at = CASE WHEN state = 'closed' AND failures + 1 >= failure_threshold
                     THEN now() ELSE opened_at END,
    updated_at = now()
WHERE service = $1
"""

_PROBE_FAILED = """
UPDATE circuit_breakers SET
    state = 'open', opened_at = now(), half_open_calls = 0,
    failures = failures + 1, updated_at = now()
WHERE service = $1 AND state = 'half_open'
"""

_PROBE_SUCCEEDED = """
UPDATE circuit_breakers SET
    state = 'closed', failures = 0, half_open_calls = 0, opened_at = NULL, updated_at = now()
WHERE service = $1 AND state = 'half_open'
"""

_SUCCEEDED = """
UPDATE circuit_breakers SET failures = 0, updated_at = now()
WHERE service = $1 AND state = 'closed' AND failures > 0
"""

_PROBE_RELEASED = """
UPDATE circuit_breakers SET half_open_calls = greatest(half_open_calls - 1, 0), updated_at = now()
WHERE service = $1 AND state = 'half_open'
"""


class PostgresCircuitBreakers:
    """A :class:`~interpreter.activities.circuit.CircuitBreakers` over PostgreSQL.

    Args:
        pool: An open asyncpg pool on the API's database (migrated).
    """

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def allow(self, service: str) -> Permit:
        """Leave to call ``service``; see the protocol.

        Raises:
            CircuitOpen: with ``retry_after`` the time left until a probe may go.
        """
        row = await self._pool.fetchrow(_READ, service)
        if row is None or row["state"] == "closed":
            return Permit(service)
        if row["state"] == "open" and (row["wait"] or 0.0) > 0:
            raise _refusal(service, row, row["wait"])
        if await self._pool.fetchrow(_TAKE_PROBE, service) is not None:
            return Permit(service, probe=True)
        # Another worker took the last probe slot, or closed the breaker meanwhile.
        row = await self._pool.fetchrow(_READ, service)
        if row is None or row["state"] == "closed":
            return Permit(service)
        if row["state"] == "open" and (row["wait"] or 0.0) > 0:
            raise _refusal(service, row, row["wait"])
        # Half-open with every probe slot taken: a probe decides within a reset timeout.
        raise _refusal(service, row, row["reset_timeout"])

    async def report(self, permit: Permit, outcome: Outcome) -> None:
        """Count the permitted call's outcome; see the protocol."""
        service = permit.service
        if outcome == "failure" and permit.probe:
            await self._pool.execute(_PROBE_FAILED, service)
        elif outcome == "failure":
            async with self._pool.acquire() as connection:
                await connection.execute(_CREATE, service)
                await connection.execute(_COUNT_FAILURE, service)
        elif outcome == "success":
            await self._pool.execute(_PROBE_SUCCEEDED if permit.probe else _SUCCEEDED, service)
        elif permit.probe:
            await self._pool.execute(_PROBE_RELEASED, service)


def _refusal(service: str, row: Any, wait: float) -> CircuitOpen:
    state = str(row["state"]).replace("_", "-")
    return CircuitOpen(
        f"circuit breaker {service!r} is {state} after {row['failures']} consecutive "
        f"failure(s), so the request was not sent; the next try may go in {wait:.1f}s "
        f"(an admin can reset it: POST /api/v1/circuit-breakers/{service}/reset)",
        retry_after=wait,
        details={"service": service, "state": row["state"], "retry_after": wait},
    )

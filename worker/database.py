"""The worker's PostgreSQL: one asyncpg pool for every store that lives there.

Webhook delivery records, secrets and circuit breakers all live in the API's
database; without ``DATABASE_URL`` the worker runs without them (deliveries
go unrecorded, nodes that read secrets fail, calls run without breakers).

Every call is bounded (``FLOWFORGE_DB_POOL_TIMEOUT``, ``FLOWFORGE_DB_CONNECT_TIMEOUT``,
``FLOWFORGE_DB_STATEMENT_TIMEOUT``): a PostgreSQL that is down or stopped fails
the call with the retryable :class:`~interpreter.errors.StoreUnavailable`
instead of holding the node attempt, and the pool recovers by itself once
PostgreSQL answers again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from interpreter.errors import StoreUnavailable
from interpreter.secret_box import SecretBox, resolve_key
from worker.attempts import PostgresAttemptLog
from worker.circuit_breakers import PostgresCircuitBreakers
from worker.deliveries import PostgresDeliveryRecorder
from worker.secrets import PostgresSecrets
from worker.settings import WorkerSettings

_POOL_MAX_SIZE = 10
"""Breakers read at most once per HTTP call (less while cached); a short statement each,
so a few connections serve many."""

_OUT_OF_REACH = (
    OSError,  # refused, unreachable, DNS; TimeoutError is one too, handled first
    asyncpg.InterfaceError,  # the connection is closed
    asyncpg.PostgresConnectionError,  # lost mid-call
    asyncpg.OperatorInterventionError,  # shutting down, starting up, statement cancelled
    asyncpg.InsufficientResourcesError,  # too many connections
)
"""What asyncpg raises when PostgreSQL, not the statement, is the problem."""


class BoundedPool:
    """An asyncpg pool whose every call gives up within its bounds, as :class:`StoreUnavailable`.

    The pool itself bounds each statement (``command_timeout``, and the
    server's ``statement_timeout``); this adds the wait for a connection and
    drops a connection whose statement timed out or was cancelled: it still
    waits for the server to acknowledge the cancel, so it must not go back
    to the pool.

    Args:
        pool: An open asyncpg pool made by :func:`database_pool`.
        settings: The bounds (``db_pool_timeout``, ``db_connect_timeout``,
            ``db_statement_timeout``).
        what: What the calls do, for the error message ("reading the run owner's secrets").
    """

    def __init__(
        self, pool: Any, settings: WorkerSettings, what: str = "the worker's stores"
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._what = what

    def about(self, what: str) -> BoundedPool:
        """The same pool, whose errors say they happened while ``what``."""
        return BoundedPool(self._pool, self._settings, what)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        """A connection for the block; the block's statements are bounded as the pool's.

        Raises:
            StoreUnavailable: no connection within the pool and connect
                timeouts, or a statement timed out or lost its server.
        """
        settings = self._settings
        waited = settings.db_pool_timeout + settings.db_connect_timeout
        try:
            connection = await self._pool.acquire(timeout=waited)
        except TimeoutError as exc:
            raise self._unavailable(
                f"PostgreSQL gave no connection within {waited:g} s (FLOWFORGE_DB_POOL_TIMEOUT "
                f"{settings.db_pool_timeout:g} s + FLOWFORGE_DB_CONNECT_TIMEOUT "
                f"{settings.db_connect_timeout:g} s)"
            ) from exc
        except _OUT_OF_REACH as exc:
            raise self._unavailable(_out_of_reach(exc)) from exc
        try:
            yield connection
        except TimeoutError as exc:
            connection.terminate()
            raise self._unavailable(
                f"PostgreSQL did not answer within {settings.db_statement_timeout:g} s "
                "(FLOWFORGE_DB_STATEMENT_TIMEOUT)"
            ) from exc
        except asyncio.CancelledError:
            connection.terminate()  # e.g. the caller's own bound ran out first
            raise
        except _OUT_OF_REACH as exc:
            connection.terminate()
            raise self._unavailable(_out_of_reach(exc)) from exc
        finally:
            await self._pool.release(connection)

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        """The rows of ``query``.

        Raises:
            StoreUnavailable: see :meth:`acquire`.
        """
        async with self.acquire() as connection:
            rows: list[Any] = await connection.fetch(query, *args)
            return rows

    async def fetchrow(self, query: str, *args: Any) -> Any:
        """The first row of ``query``, or None.

        Raises:
            StoreUnavailable: see :meth:`acquire`.
        """
        async with self.acquire() as connection:
            return await connection.fetchrow(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        """Run ``query``; its status tag.

        Raises:
            StoreUnavailable: see :meth:`acquire`.
        """
        async with self.acquire() as connection:
            status: str = await connection.execute(query, *args)
            return status

    def _unavailable(self, why: str) -> StoreUnavailable:
        return StoreUnavailable(
            f"{why} while {self._what}: the attempt failed and may be retried; check that "
            "PostgreSQL (DATABASE_URL) is up and answering",
            details={"store": "postgresql", "while": self._what},
        )


def _out_of_reach(exc: BaseException) -> str:
    return f"PostgreSQL is out of reach ({exc.__class__.__name__}: {exc})"


@dataclass(frozen=True)
class Stores:
    """What the node activities keep in PostgreSQL; all None without a database."""

    recorder: PostgresDeliveryRecorder | None = None
    secrets: PostgresSecrets | None = None
    breakers: PostgresCircuitBreakers | None = None
    attempts: PostgresAttemptLog | None = None


@asynccontextmanager
async def database_pool(settings: WorkerSettings) -> AsyncIterator[BoundedPool | None]:
    """A bounded asyncpg pool for the worker's lifetime; None without DATABASE_URL.

    Raises:
        RuntimeError: DATABASE_URL is set but PostgreSQL cannot be reached.
    """
    if not settings.database_url:
        yield None
        return
    statement_ms = str(int(settings.db_statement_timeout * 1000))
    try:
        pool = await asyncpg.create_pool(
            settings.database_url,
            min_size=1,
            max_size=_POOL_MAX_SIZE,
            timeout=settings.db_connect_timeout,
            command_timeout=settings.db_statement_timeout,
            server_settings={"statement_timeout": statement_ms},
            reset=_keep_session,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise RuntimeError(
            f"cannot connect to PostgreSQL ({exc}): check DATABASE_URL, or unset it to run "
            "without webhook delivery records, secrets and circuit breakers"
        ) from exc
    try:
        yield BoundedPool(pool, settings)
    finally:
        try:
            # A stopped server would hold a graceful close as long as it is stopped.
            await asyncio.wait_for(pool.close(), settings.db_statement_timeout)
        except TimeoutError:
            pool.terminate()


async def _keep_session(connection: Any) -> None:
    """Release a connection to the pool as it is, without asyncpg's reset query.

    The default reset sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL;`` on every release: a round trip to PostgreSQL after every statement
    the worker makes (a breaker read, an attempt's row). The worker's statements
    leave nothing in the session to undo (no advisory locks, cursors, LISTEN or SET),
    and asyncpg still rolls back a transaction left open before it calls this.
    """


def stores(settings: WorkerSettings, pool: BoundedPool | None) -> Stores:
    """The stores over ``pool``.

    Raises:
        ValueError: the secrets key is malformed, or missing in prod.
    """
    if pool is None:
        return Stores()
    key = resolve_key(
        settings.secrets_key,
        data_dir=settings.data_dir,
        allow_generated=settings.environment != "prod",
    )
    return Stores(
        recorder=PostgresDeliveryRecorder(pool.about("recording a webhook delivery attempt")),
        secrets=PostgresSecrets(pool.about("reading the run owner's secrets"), SecretBox(key)),
        breakers=PostgresCircuitBreakers(
            pool.about("reading or updating a circuit breaker"),
            cache_seconds=settings.breaker_cache_seconds,
        ),
        attempts=PostgresAttemptLog(pool.about("recording a node attempt")),
    )

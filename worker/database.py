"""The worker's PostgreSQL: one asyncpg pool for every store that lives there.

Webhook delivery records, secrets and circuit breakers all live in the API's
database; without ``DATABASE_URL`` the worker runs without them (deliveries
go unrecorded, nodes that read secrets fail, calls run without breakers).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from interpreter.secret_box import SecretBox, resolve_key
from worker.circuit_breakers import PostgresCircuitBreakers
from worker.deliveries import PostgresDeliveryRecorder
from worker.secrets import PostgresSecrets
from worker.settings import WorkerSettings

_POOL_MAX_SIZE = 10
"""Breakers read once per HTTP call; a short statement each, so a few connections serve many."""

_CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Stores:
    """What the node activities keep in PostgreSQL; all None without a database."""

    recorder: PostgresDeliveryRecorder | None = None
    secrets: PostgresSecrets | None = None
    breakers: PostgresCircuitBreakers | None = None


@asynccontextmanager
async def database_pool(settings: WorkerSettings) -> AsyncIterator[Any | None]:
    """An asyncpg pool for the worker's lifetime; None without DATABASE_URL.

    Raises:
        RuntimeError: DATABASE_URL is set but PostgreSQL cannot be reached.
    """
    if not settings.database_url:
        yield None
        return
    try:
        pool = await asyncpg.create_pool(
            settings.database_url, min_size=1, max_size=_POOL_MAX_SIZE, timeout=_CONNECT_TIMEOUT
        )
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise RuntimeError(
            f"cannot connect to PostgreSQL ({exc}): check DATABASE_URL, or unset it to run "
            "without webhook delivery records, secrets and circuit breakers"
        ) from exc
    try:
        yield pool
    finally:
        await pool.close()


def stores(settings: WorkerSettings, pool: Any | None) -> Stores:
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
        recorder=PostgresDeliveryRecorder(pool),
        secrets=PostgresSecrets(pool, SecretBox(key)),
        breakers=PostgresCircuitBreakers(pool),
    )

"""Keeping every webhook delivery attempt in PostgreSQL, for the API's node detail.

The worker writes with plain SQL through asyncpg rather than the API's models:
the worker does not import the app. The table is ``webhook_deliveries``,
created by the API's migrations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from interpreter.activities.webhook import DeliveryRecord
from worker.settings import WorkerSettings

_INSERT = """
INSERT INTO webhook_deliveries
    (delivery_id, run_id, node_id, node_path, attempt, url,
     status, error_type, error, latency_ms, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
"""

_POOL_MAX_SIZE = 4
"""Inserts are small and rare next to the HTTP calls they record; a few connections do."""

_CONNECT_TIMEOUT = 10.0


class PostgresDeliveryRecorder:
    """A :class:`~interpreter.activities.webhook.DeliveryRecorder` writing one row per attempt.

    Args:
        pool: An open asyncpg pool; :meth:`open` makes one.
    """

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, dsn: str) -> PostgresDeliveryRecorder:
        """Connect to ``dsn`` (a ``postgresql://`` URL).

        Raises:
            OSError, asyncpg.PostgresError: PostgreSQL is unreachable or refuses the login.
        """
        pool = await asyncpg.create_pool(
            dsn, min_size=1, max_size=_POOL_MAX_SIZE, timeout=_CONNECT_TIMEOUT
        )
        return cls(pool)

    async def record(self, delivery: DeliveryRecord) -> None:
        """Insert ``delivery``; errors propagate (the webhook node logs them and carries on)."""
        await self._pool.execute(
            _INSERT,
            delivery.delivery_id,
            delivery.run_id,
            delivery.node_id,
            delivery.node_path,
            delivery.attempt,
            delivery.url,
            delivery.status,
            delivery.error_type,
            delivery.error,
            delivery.latency_ms,
            delivery.at,
        )

    async def close(self) -> None:
        await self._pool.close()


@asynccontextmanager
async def delivery_recorder(
    settings: WorkerSettings,
) -> AsyncIterator[PostgresDeliveryRecorder | None]:
    """The worker's recorder for its lifetime; None (attempts go unrecorded) without DATABASE_URL.

    Raises:
        RuntimeError: DATABASE_URL is set but PostgreSQL cannot be reached.
    """
    if not settings.database_url:
        yield None
        return
    try:
        recorder = await PostgresDeliveryRecorder.open(settings.database_url)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise RuntimeError(
            f"cannot connect to PostgreSQL for webhook delivery records ({exc}): "
            "check DATABASE_URL, or unset it to run without them"
        ) from exc
    try:
        yield recorder
    finally:
        await recorder.close()

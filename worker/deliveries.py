"""Keeping every webhook delivery attempt in PostgreSQL, for the API's node detail.

The worker writes with plain SQL through asyncpg rather than the API's models:
the worker does not import the app. The table is ``webhook_deliveries``,
created by the API's migrations.
"""

from __future__ import annotations

from typing import Any

from interpreter.activities.webhook import DeliveryRecord

_INSERT = """
INSERT INTO webhook_deliveries
    (delivery_id, run_id, node_id, node_path, attempt, url,
     status, error_type, error, latency_ms, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
"""


class PostgresDeliveryRecorder:
    """A webhook :class:`~interpreter.activities.webhook.DeliveryRecorder`: one row per attempt.

    Args:
        pool: The worker's bounded pool (``worker.database.database_pool``), whose
            calls raise ``StoreUnavailable`` past their timeouts; or any asyncpg pool.
    """

    def __init__(self, pool: Any) -> None:
        self._pool = pool

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

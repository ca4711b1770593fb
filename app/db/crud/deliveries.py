"""Reading the webhook delivery attempts the worker recorded."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models.delivery import WebhookDelivery

MAX_LISTED_ATTEMPTS = 1000
"""A node with more attempts (a huge for_each body) shows only its first ones."""


async def list_deliveries(
    *, session: AsyncSession, run_id: str, node_id: str
) -> Sequence[WebhookDelivery]:
    """Every recorded attempt of node ``node_id`` in run ``run_id``, oldest first."""
    statement = (
        select(WebhookDelivery)
        .where(WebhookDelivery.run_id == run_id, WebhookDelivery.node_id == node_id)
        .order_by(col(WebhookDelivery.at), col(WebhookDelivery.id))
        .limit(MAX_LISTED_ATTEMPTS)
    )
    result = await session.exec(statement)
    return result.all()

"""Reading the node attempts the worker recorded."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models.attempt import NodeAttempt

MAX_LISTED_ATTEMPTS = 1000
"""A node with more attempts (a huge for_each body) shows only its first ones."""


async def list_attempts(
    *, session: AsyncSession, run_id: str, node_id: str
) -> Sequence[NodeAttempt]:
    """Every recorded attempt of top-level node ``node_id`` in run ``run_id``, oldest first.

    Attempts of for_each items (paths like ``loop[3].call``) are left out.
    """
    statement = (
        select(NodeAttempt)
        .where(
            NodeAttempt.run_id == run_id,
            NodeAttempt.node_id == node_id,
            NodeAttempt.node_path == node_id,
        )
        .order_by(col(NodeAttempt.started_at), col(NodeAttempt.id))
        .limit(MAX_LISTED_ATTEMPTS)
    )
    result = await session.exec(statement)
    return result.all()

"""Per-owner quota counters: each taken or refused in one atomic statement."""

from __future__ import annotations

import math
import uuid

from sqlalchemy import func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models.hook import WebhookHook

# PostgreSQL's clock, not the API process's: every process then agrees on the window.
_TAKE_START = text(
    """
    INSERT INTO run_start_windows AS w (owner_id, window_start, starts)
    VALUES (:owner_id, date_trunc('minute', now()), 1)
    ON CONFLICT (owner_id) DO UPDATE SET
        starts = CASE WHEN w.window_start = excluded.window_start THEN w.starts + 1 ELSE 1 END,
        window_start = excluded.window_start
    WHERE w.window_start <> excluded.window_start OR w.starts < :limit
    RETURNING w.starts
    """
)
_WINDOW_LEFT = text(
    "SELECT extract(epoch FROM date_trunc('minute', now()) + interval '1 minute' - now())"
)


async def take_run_start(*, session: AsyncSession, owner_id: uuid.UUID, limit: int) -> int | None:
    """Count one run start of ``owner_id`` in this minute unless ``limit`` are counted; commits.

    Returns:
        None if the start was counted; else the whole seconds until the
        minute ends and starts are counted again (at least 1).
    """
    connection = await session.connection()
    taken = (await connection.execute(_TAKE_START, {"owner_id": owner_id, "limit": limit})).first()
    left = None if taken is not None else (await connection.execute(_WINDOW_LEFT)).scalar_one()
    await session.commit()
    return None if left is None else max(1, math.ceil(float(left)))


async def count_hooks(*, session: AsyncSession, owner_id: uuid.UUID) -> int:
    """How many inbound webhooks ``owner_id`` has, enabled or not."""
    statement = (
        select(func.count()).select_from(WebhookHook).where(col(WebhookHook.owner_id) == owner_id)
    )
    return (await session.exec(statement)).one()

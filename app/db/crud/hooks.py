"""Inbound webhooks of workflows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy import tuple_ as sa_tuple
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.pages import Position, newest_first
from app.db.models.hook import WebhookHook, WebhookHookReplay


async def create_hook(*, session: AsyncSession, hook: WebhookHook) -> WebhookHook:
    """Insert ``hook`` and return it as stored."""
    session.add(hook)
    await session.commit()
    await session.refresh(hook)
    return hook


async def get_hook(*, session: AsyncSession, hook_id: uuid.UUID) -> WebhookHook | None:
    """The hook ``hook_id``, whoever owns it, enabled or not; None if there is none."""
    return await session.get(WebhookHook, hook_id)


async def list_hooks(
    *, session: AsyncSession, workflow_id: uuid.UUID, limit: int, after: Position | None
) -> Sequence[WebhookHook]:
    """Up to ``limit`` of the workflow's hooks, newest first."""
    statement = select(WebhookHook).where(WebhookHook.workflow_id == workflow_id)
    result = await session.exec(newest_first(statement, WebhookHook, after).limit(limit))
    return result.all()


async def update_hook(
    *,
    session: AsyncSession,
    hook: WebhookHook,
    enabled: bool | None = None,
    require_timestamp: bool | None = None,
) -> WebhookHook:
    """Change what is not None of ``hook`` and return it as stored."""
    if enabled is not None:
        hook.enabled = enabled
    if require_timestamp is not None:
        hook.require_timestamp = require_timestamp
    session.add(hook)
    await session.commit()
    await session.refresh(hook)
    return hook


async def delete_hook(*, session: AsyncSession, hook: WebhookHook) -> None:
    """Delete ``hook``: its URL starts nothing from now on."""
    await session.delete(hook)
    await session.commit()


_EXPIRED_BATCH = 1000
"""Expired replay rows deleted per accepted delivery: bounded work per call."""


async def claim_delivery(
    *, session: AsyncSession, hook_id: uuid.UUID, digest: str, now: datetime, expires_at: datetime
) -> bool:
    """Remember signature ``digest`` of hook ``hook_id`` until ``expires_at``; commits.

    Returns:
        True if this call claimed it (never seen, or only in an expired row),
        False if a live row exists: the delivery is a replay.
    """
    table = WebhookHookReplay.__table__  # type: ignore[attr-defined]
    statement = (
        insert(table)
        .values(hook_id=hook_id, digest=digest, run_id=None, expires_at=expires_at)
        .on_conflict_do_update(
            index_elements=["hook_id", "digest"],
            set_={"run_id": None, "expires_at": expires_at},
            where=table.c.expires_at <= now,
        )
        .returning(table.c.digest)
    )
    claimed = (await session.exec(statement)).first() is not None
    expired = (
        select(WebhookHookReplay.hook_id, WebhookHookReplay.digest)
        .where(col(WebhookHookReplay.expires_at) <= now)
        .limit(_EXPIRED_BATCH)
    )
    await session.exec(
        delete(WebhookHookReplay).where(
            sa_tuple(col(WebhookHookReplay.hook_id), col(WebhookHookReplay.digest)).in_(expired)
        )
    )
    await session.commit()
    return claimed


async def remember_run(
    *, session: AsyncSession, hook_id: uuid.UUID, digest: str, run_id: str
) -> None:
    """Record the run a claimed delivery started, for its replays; commits."""
    await session.exec(
        update(WebhookHookReplay)
        .where(col(WebhookHookReplay.hook_id) == hook_id, col(WebhookHookReplay.digest) == digest)
        .values(run_id=run_id)
    )
    await session.commit()


async def forget_delivery(*, session: AsyncSession, hook_id: uuid.UUID, digest: str) -> None:
    """Drop a claim whose run did not start, so the sender may try again; commits."""
    await session.rollback()
    await session.exec(
        delete(WebhookHookReplay).where(
            col(WebhookHookReplay.hook_id) == hook_id,
            col(WebhookHookReplay.digest) == digest,
            col(WebhookHookReplay.run_id).is_(None),
        )
    )
    await session.commit()


async def remembered_run(
    *, session: AsyncSession, hook_id: uuid.UUID, digest: str, now: datetime
) -> tuple[bool, str | None]:
    """Whether a live row remembers ``digest``, and the run it started (None while starting)."""
    statement = select(WebhookHookReplay.run_id).where(
        col(WebhookHookReplay.hook_id) == hook_id,
        col(WebhookHookReplay.digest) == digest,
        col(WebhookHookReplay.expires_at) > now,
    )
    rows = (await session.exec(statement)).all()
    await session.commit()
    return (True, rows[0]) if rows else (False, None)

"""Inbound webhooks of workflows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.pages import Position, newest_first
from app.db.models.hook import WebhookHook


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


async def set_enabled(*, session: AsyncSession, hook: WebhookHook, enabled: bool) -> WebhookHook:
    """Enable or disable ``hook`` and return it as stored."""
    hook.enabled = enabled
    session.add(hook)
    await session.commit()
    await session.refresh(hook)
    return hook


async def delete_hook(*, session: AsyncSession, hook: WebhookHook) -> None:
    """Delete ``hook``: its URL starts nothing from now on."""
    await session.delete(hook)
    await session.commit()

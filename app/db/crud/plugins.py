"""Plugins: add a version, list, read, deprecate. Versions are never changed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.errors import AlreadyExists
from app.db.models.common import utcnow
from app.db.models.plugin import Plugin


async def add_plugin(*, session: AsyncSession, plugin: Plugin) -> Plugin:
    """Store a new version.

    Raises:
        AlreadyExists: the owner has that version of that plugin already.
    """
    session.add(plugin)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise AlreadyExists(
            f"plugin {plugin.name}@{plugin.version} exists already: versions are immutable, "
            "publish a new version instead"
        ) from None
    await session.refresh(plugin)
    return plugin


async def plugin_versions(
    *, session: AsyncSession, owner_id: uuid.UUID, name: str | None = None
) -> Sequence[Plugin]:
    """The owner's plugin versions (of ``name`` only, if given), by name then newest first."""
    statement = select(Plugin).where(Plugin.owner_id == owner_id)
    if name is not None:
        statement = statement.where(Plugin.name == name)
    statement = statement.order_by(
        col(Plugin.name), col(Plugin.major).desc(), col(Plugin.minor).desc(),
        col(Plugin.patch).desc(), col(Plugin.created_at).desc(),
    )  # fmt: skip
    result = await session.exec(statement)
    return result.all()


async def get_plugin(
    *, session: AsyncSession, owner_id: uuid.UUID, name: str, version: str
) -> Plugin | None:
    """One version of one of the owner's plugins."""
    statement = select(Plugin).where(
        Plugin.owner_id == owner_id, Plugin.name == name, Plugin.version == version
    )
    result = await session.exec(statement)
    return result.first()


async def set_deprecated(*, session: AsyncSession, plugin: Plugin, deprecated: bool) -> Plugin:
    """Deprecate a version (ranges stop resolving to it) or undo that."""
    plugin.deprecated_at = utcnow() if deprecated else None
    session.add(plugin)
    await session.commit()
    await session.refresh(plugin)
    return plugin


def public_fields(plugin: Plugin) -> dict[str, Any]:
    """The columns the API shows of a version (everything but the internal ids)."""
    return plugin.model_dump(exclude={"id", "owner_id", "major", "minor", "patch"})

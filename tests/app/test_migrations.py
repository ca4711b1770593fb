"""Migrations: they build what the models describe, and run from any caller."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped]
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import app.db.models  # noqa: F401  (registers every table)
from app.db.engine import make_engine
from app.db.migrations import alembic_config, upgrade_to_head


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def _drift(database_url: str) -> list[object]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_diff)
    finally:
        await engine.dispose()


@pytest.fixture
async def scratch_url(database_url: str) -> AsyncIterator[str]:
    """A database of its own, since this test migrates down and up again."""
    root, _, _ = database_url.rpartition("/")
    server = root.replace("postgresql+asyncpg://", "postgresql://", 1) + "/postgres"
    name = f"flowforge_mig_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{root}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_models_and_migrations_do_not_drift(migrated_url: str) -> None:
    assert await _drift(migrated_url) == []


async def test_upgrade_works_inside_a_running_loop_down_and_up(scratch_url: str) -> None:
    # This coroutine runs on an event loop: upgrade_to_head must cope with that.
    upgrade_to_head(scratch_url)
    upgrade_to_head(scratch_url)  # nothing left to do: a no-op
    await asyncio.to_thread(command.downgrade, alembic_config(scratch_url), "base")
    upgrade_to_head(scratch_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    assert await _drift(scratch_url) == []


def test_upgrade_works_from_plain_sync_code(scratch_url: str) -> None:
    upgrade_to_head(scratch_url)


async def test_breakers_from_before_owners_become_shared_ones(scratch_url: str) -> None:
    plain = scratch_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    await asyncio.to_thread(command.upgrade, alembic_config(scratch_url), "0004")
    database = await asyncpg.connect(plain)
    try:
        await database.execute(
            "INSERT INTO circuit_breakers (service, failure_threshold) VALUES ('crm', 2)"
        )
        await asyncio.to_thread(command.upgrade, alembic_config(scratch_url), "head")
        legacy = await database.fetchrow("SELECT * FROM circuit_breakers WHERE service = 'crm'")
        await database.execute("INSERT INTO circuit_breakers (service, owner) VALUES ('crm', 'u')")
        with pytest.raises(asyncpg.UniqueViolationError):
            await database.execute("INSERT INTO circuit_breakers (service) VALUES ('crm')")
    finally:
        await database.close()
    assert (legacy["owner"], legacy["failure_threshold"]) == (None, 2)

"""Bring a database to the newest schema, from any caller (sync code, async code, CLI)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config for the scripts in ``app/migrations`` and this database."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    # Passed as an attribute, not a main option: ConfigParser would read any '%'
    # in a password as interpolation.
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> None:
    """Apply every migration not yet applied to ``database_url``.

    Safe to call from a thread with a running event loop: the migrations drive
    an async engine with ``asyncio.run``, which needs a thread without one, so
    they run on a short-lived thread of their own and this call waits for it.
    Concurrent callers are serialised by a PostgreSQL advisory lock.

    Raises:
        Exception: whatever the migration raised (unreachable server, bad URL...).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="alembic") as pool:
        pool.submit(command.upgrade, alembic_config(database_url), "head").result()

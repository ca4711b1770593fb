"""``flowforge dev``: the one-command development stack."""

from __future__ import annotations

import asyncio

import typer

from app.devstack.settings import DevSettings
from app.devstack.supervisor import supervise


def dev() -> None:
    """Run Temporal, PostgreSQL, migrations, a worker and the API until Ctrl-C.

    Data persists under FLOWFORGE_DATA_DIR (default .data). Set DATABASE_URL to
    use your own PostgreSQL instead of the embedded one.
    """
    raise typer.Exit(asyncio.run(supervise(DevSettings())))

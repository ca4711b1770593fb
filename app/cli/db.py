"""``flowforge db``: database maintenance."""

from __future__ import annotations

import typer

from app.cli.output import fail
from interpreter.settings import CommonSettings

app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Apply every pending migration to the database at DATABASE_URL."""
    settings = CommonSettings()
    if not settings.database_url:
        fail("DATABASE_URL is not set: point it at the PostgreSQL database to migrate")
    from app.db.migrations import upgrade_to_head  # heavy: only for this command

    upgrade_to_head(settings.database_url)
    typer.echo("database is at the latest migration")

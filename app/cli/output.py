"""How the CLI prints: JSON on stdout, errors on stderr with a non-zero exit."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer


def show(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    typer.echo(json.dumps(value, indent=2, sort_keys=False, default=str))


def fail(message: str, details: Any = None) -> NoReturn:
    """Print ``message`` (and ``details`` as JSON) to stderr and exit with status 1."""
    typer.echo(f"error: {message}", err=True)
    if details is not None:
        typer.echo(json.dumps(details, indent=2, default=str), err=True)
    raise typer.Exit(1)

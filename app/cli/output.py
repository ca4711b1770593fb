"""How the CLI prints: readable tables by default, JSON with ``--json``; errors on stderr.

Every command that prints takes ``--json`` (:data:`AsJson`): scripts get the
API's answer unchanged, people get a table or a short summary.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NoReturn

import typer

AsJson = Annotated[
    bool, typer.Option("--json", help="Print the API's answer as JSON, for scripts.")
]


def show(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    typer.echo(json.dumps(value, indent=2, sort_keys=False, default=str))


def cell(value: Any) -> str:
    """A table cell: strings as they are, nothing as ``-``, the rest as compact JSON."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, separators=(",", ":"))


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None) -> None:
    """Print ``rows`` as aligned columns (keys of each row), ids never cut; none says so."""
    if not rows:
        typer.echo(f"no {title or 'items'}")
        return
    cells = [[cell(row.get(column)) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)
    ]
    for line in [[column.upper() for column in columns], *cells]:
        typer.echo(
            "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        )


def fields(value: dict[str, Any], keys: Sequence[str]) -> None:
    """Print ``keys`` of ``value`` as ``key: value`` lines, those it has."""
    width = max(len(key) for key in keys)
    for key in keys:
        if key in value:
            typer.echo(f"{key:<{width}}  {cell(value[key])}")


def emit(value: Any, as_json: bool, readable: Callable[[Any], None]) -> None:
    """``value`` as JSON when asked, else through ``readable``."""
    if as_json:
        show(value)
    else:
        readable(value)


def page(value: Any, as_json: bool, columns: Sequence[str], title: str) -> None:
    """A ``{"items", "next_cursor"}`` page as JSON or as a table, with the next cursor."""
    if as_json:
        show(value)
        return
    table(value.get("items", []), columns, title)
    if value.get("next_cursor"):
        typer.echo(f"more: --cursor {value['next_cursor']}")


def fail(message: str, details: Any = None) -> NoReturn:
    """Print ``message`` (and ``details`` as JSON) to stderr and exit with status 1."""
    typer.echo(f"error: {message}", err=True)
    if details is not None:
        typer.echo(json.dumps(details, indent=2, default=str), err=True)
    raise typer.Exit(1)

"""``flowforge workflows``: store and list workflow definitions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.client import Api
from app.cli.output import fail, show
from app.cli.settings import CliSettings

app = typer.Typer(help="Store and list workflow definitions.", no_args_is_help=True)


def find_workflow(api: Api, reference: str) -> dict[str, Any] | None:
    """The workflow whose id or name is ``reference`` (ids win), or None."""
    found = api.pages("/workflows")
    for key in ("id", "name"):
        for workflow in found:
            if str(workflow.get(key)) == reference:
                return dict(workflow)
    return None


def _read_definition(file: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text()
        definition = json.loads(text)
    except (OSError, json.JSONDecodeError) as error:
        fail(f"cannot read a JSON definition from {file}: {error}")
    if not isinstance(definition, dict) or not isinstance(definition.get("name"), str):
        fail(f"{file}: a definition is a JSON object with a string `name` (see docs/DSL.md)")
    return definition


@app.command()
def apply(
    file: Annotated[str, typer.Argument(help="Definition JSON file, or - for stdin.")],
    activate: Annotated[
        bool, typer.Option(help="Make a new version the active one at once.")
    ] = True,
) -> None:
    """Create the workflow, or add a new version if one with that name exists."""
    definition = _read_definition(file)
    api = Api(CliSettings())
    existing = find_workflow(api, definition["name"])
    if existing is None:
        show(api.call("POST", "/workflows", json={"definition": definition}))
        return
    params = {} if activate else {"activate": "false"}
    path = f"/workflows/{existing['id']}"
    show(api.call("PUT", path, json={"definition": definition}, params=params))


@app.command("list")
def list_workflows(
    limit: Annotated[int, typer.Option(min=1, max=200, help="Page size.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="`next_cursor` of the previous page.")] = None,
) -> None:
    """List your workflows, one page at a time."""
    params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
    show(Api(CliSettings()).call("GET", "/workflows", params=params))

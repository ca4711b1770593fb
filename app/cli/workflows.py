"""``flowforge workflows``: store, read, check, compare and delete workflow definitions."""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.client import Api
from app.cli.output import AsJson, emit, fail, fields, page, show, table
from app.cli.settings import CliSettings

app = typer.Typer(
    help="Store, read, check, compare and delete workflow definitions.", no_args_is_help=True
)

WorkflowRef = Annotated[str, typer.Argument(help="The workflow's id or name.")]
_COLUMNS = ("id", "name", "version", "active_version", "updated_at")


def find_workflow(api: Api, reference: str) -> dict[str, Any] | None:
    """The workflow whose id or name is ``reference`` (ids win), or None."""
    found = api.pages("/workflows")
    for key in ("id", "name"):
        for workflow in found:
            if str(workflow.get(key)) == reference:
                return dict(workflow)
    return None


def resolve(api: Api, reference: str) -> dict[str, Any]:
    """The workflow ``reference`` names; fails saying how to find one otherwise."""
    found = find_workflow(api, reference)
    if found is None:
        fail(f"no workflow with id or name {reference!r}: see `flowforge workflows list`")
    return found


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
    as_json: AsJson = False,
) -> None:
    """List your workflows, one page at a time."""
    params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
    page(
        Api(CliSettings()).call("GET", "/workflows", params=params), as_json, _COLUMNS, "workflows"
    )


@app.command()
def get(
    workflow: WorkflowRef,
    version: Annotated[int | None, typer.Option(help="This version (default: active).")] = None,
    definition: Annotated[
        bool, typer.Option("--definition", help="Print only the definition, as JSON.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """A workflow and its (active or given) version's definition."""
    api = Api(CliSettings())
    found = resolve(api, workflow)
    path = f"/workflows/{found['id']}"
    answer = api.call("GET", f"{path}/versions/{version}" if version else path)
    if definition:
        show(answer["definition"])
        return
    emit(answer, as_json, lambda value: fields(value, (*_COLUMNS, "description", "active")))


@app.command()
def validate(
    file: Annotated[str, typer.Argument(help="Definition JSON file, or - for stdin.")],
    as_json: AsJson = False,
) -> None:
    """Check a definition without saving it; exits 1 with every problem if it is invalid."""
    report = Api(CliSettings()).call(
        "POST", "/workflows/validate", json={"definition": _read_definition(file)}
    )
    if as_json:
        show(report)
    elif report["valid"]:
        typer.echo("valid")
    else:
        for error in report["errors"]:
            typer.echo(f"{error['path'] or '/'}: {error['message']} ({error['code']})")
    if not report["valid"]:
        raise typer.Exit(1)


@app.command()
def versions(workflow: WorkflowRef, as_json: AsJson = False) -> None:
    """Every version of a workflow, newest first."""
    api = Api(CliSettings())
    found = resolve(api, workflow)
    items = api.pages(f"/workflows/{found['id']}/versions")
    emit(
        {"items": items},
        as_json,
        lambda _: table(items, ("version", "active", "created_at", "content_hash"), "versions"),
    )


@app.command()
def activate(
    workflow: WorkflowRef,
    version: Annotated[int, typer.Argument(help="The version new runs are to use.")],
    as_json: AsJson = False,
) -> None:
    """Make a version the one new runs use."""
    api = Api(CliSettings())
    found = resolve(api, workflow)
    answer = api.call("POST", f"/workflows/{found['id']}/versions/{version}/activate")
    emit(answer, as_json, lambda value: fields(value, _COLUMNS))


@app.command()
def diff(
    workflow: WorkflowRef,
    old: Annotated[int, typer.Argument(help="The version to compare from.")],
    new: Annotated[
        int | None, typer.Argument(help="The version to compare to (default: the newest).")
    ] = None,
) -> None:
    """The changes between two versions' definitions, as a unified diff."""
    api = Api(CliSettings())
    found = resolve(api, workflow)
    newest = new or int(found["version"])
    texts = []
    for number in (old, newest):
        version = api.call("GET", f"/workflows/{found['id']}/versions/{number}")
        texts.append(json.dumps(version["definition"], indent=2, sort_keys=True).splitlines())
    lines = difflib.unified_diff(
        texts[0], texts[1], f"version {old}", f"version {newest}", lineterm=""
    )
    output = "\n".join(lines)
    typer.echo(output or f"versions {old} and {newest} have the same definition")


def _set_status(workflow: str, status: str, as_json: bool) -> None:
    api = Api(CliSettings())
    found = resolve(api, workflow)
    answer = api.call("PATCH", f"/workflows/{found['id']}", json={"status": status})
    emit(answer, as_json, lambda value: fields(value, (*_COLUMNS, "status")))


@app.command()
def pause(workflow: WorkflowRef, as_json: AsJson = False) -> None:
    """Pause a workflow: nothing starts a run of it (its schedules pause, hooks answer 423)."""
    _set_status(workflow, "paused", as_json)


@app.command()
def resume(workflow: WorkflowRef, as_json: AsJson = False) -> None:
    """Resume a paused workflow, and the schedules pausing it paused."""
    _set_status(workflow, "active", as_json)


@app.command()
def delete(
    workflow: WorkflowRef,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a workflow: its running runs go on, its schedules pause, its hooks refuse calls."""
    api = Api(CliSettings())
    found = resolve(api, workflow)
    if not yes:
        typer.confirm(f"delete workflow {found['name']!r} ({found['id']})?", abort=True)
    api.call("DELETE", f"/workflows/{found['id']}")
    typer.echo(f"deleted {found['name']}")

"""``flowforge runs``: start runs and watch or control them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.client import Api
from app.cli.output import fail, show
from app.cli.settings import CliSettings
from app.cli.workflows import find_workflow

app = typer.Typer(help="Start, inspect and control runs.", no_args_is_help=True)

RunId = Annotated[str, typer.Argument(help="The run's id (`run_id`).")]


def _parse_input(text: str) -> Any:
    try:
        return json.loads(Path(text[1:]).read_text() if text.startswith("@") else text)
    except (OSError, json.JSONDecodeError) as error:
        fail(f"--input must be JSON or @file.json: {error}")


@app.command()
def start(
    workflow: Annotated[str, typer.Argument(help="The workflow's id or name.")],
    input: Annotated[str, typer.Option("--input", help="Run input: JSON, or @file.json.")] = "{}",
    version: Annotated[int | None, typer.Option(help="Version to run (default: active).")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Same key, same workflow: the same run, not a new one.")
    ] = None,
) -> None:
    """Start a run of a workflow."""
    body: dict[str, Any] = {"input": _parse_input(input)}
    if version is not None:
        body["version"] = version
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    api = Api(CliSettings())
    found = find_workflow(api, workflow)
    if found is None:
        fail(f"no workflow with id or name {workflow!r}: see `flowforge workflows list`")
    show(api.call("POST", f"/workflows/{found['id']}/runs", json=body, headers=headers))


@app.command()
def get(run: RunId) -> None:
    """A run's status, output, error and nodes."""
    show(Api(CliSettings()).call("GET", f"/runs/{run}"))


def _control(action: str, run: str) -> None:
    show(Api(CliSettings()).call("POST", f"/runs/{run}/{action}"))


@app.command()
def pause(run: RunId) -> None:
    """Stop starting new nodes (running ones finish)."""
    _control("pause", run)


@app.command()
def resume(run: RunId) -> None:
    """Continue a paused run."""
    _control("resume", run)


@app.command()
def cancel(run: RunId) -> None:
    """Cancel a run: running activities are cancelled and the run ends `cancelled`."""
    _control("cancel", run)

"""``flowforge runs``: start runs, list and follow them, and steer them."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from app.cli.client import Api
from app.cli.output import AsJson, emit, fail, fields, page, table
from app.cli.settings import CliSettings
from app.cli.workflows import find_workflow
from app.runs.ids import run_id_segment

app = typer.Typer(help="Start, list, follow and steer runs.", no_args_is_help=True)

RunId = Annotated[str, typer.Argument(help="The run's id (`run_id`).")]
NodeId = Annotated[str, typer.Argument(help="The node's id.")]

_SUMMARY = ("run_id", "workflow_id", "version", "status", "trigger", "started_at", "ended_at")
_DONE = {"succeeded", "failed", "skipped", "cancelled"}
_ENDED = {"succeeded", "failed", "cancelled", "terminated", "timed_out"}


class Status(StrEnum):
    """A run's status, as ``GET /runs?status=`` takes it."""

    running = "running"
    paused = "paused"
    suspended = "suspended"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    terminated = "terminated"
    timed_out = "timed_out"


def parse_json(text: str, option: str) -> Any:
    """``text`` as JSON, or the JSON in file ``@path``; fails naming ``option``."""
    try:
        return json.loads(Path(text[1:]).read_text() if text.startswith("@") else text)
    except (OSError, json.JSONDecodeError) as error:
        fail(f"{option} must be JSON or @file.json: {error}")


def _api() -> Api:
    return Api(CliSettings())


@app.command()
def start(
    workflow: Annotated[str, typer.Argument(help="The workflow's id or name.")],
    input: Annotated[str, typer.Option("--input", help="Run input: JSON, or @file.json.")] = "{}",
    version: Annotated[int | None, typer.Option(help="Version to run (default: active).")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Same key, same workflow: the same run, not a new one.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Start a run of a workflow."""
    body: dict[str, Any] = {"input": parse_json(input, "--input")}
    if version is not None:
        body["version"] = version
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    api = _api()
    found = find_workflow(api, workflow)
    if found is None:
        fail(f"no workflow with id or name {workflow!r}: see `flowforge workflows list`")
    started = api.call("POST", f"/workflows/{found['id']}/runs", json=body, headers=headers)
    emit(started, as_json, lambda run: fields(run, ("run_id", "status", "version")))


@app.command("list")
def list_runs(
    workflow: Annotated[str | None, typer.Option(help="Only this workflow (id or name).")] = None,
    status: Annotated[
        list[Status] | None, typer.Option(help="Only these statuses (repeat for several).")
    ] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only failed, timed-out or suspended runs.")
    ] = False,
    trigger: Annotated[
        str | None, typer.Option(help="Only runs started so: api, schedule, hook, event, rerun.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only runs started at or after (ISO 8601).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Only runs started before (ISO 8601).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="Page size.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="`next_cursor` of the previous page.")] = None,
    as_json: AsJson = False,
) -> None:
    """List runs, newest first, one page at a time."""
    api = _api()
    params: dict[str, Any] = {"limit": limit}
    if workflow:
        found = find_workflow(api, workflow)
        if found is None:
            fail(f"no workflow with id or name {workflow!r}: see `flowforge workflows list`")
        params["workflow_id"] = found["id"]
    optional = {"trigger": trigger, "started_after": since, "started_before": until}
    params |= {key: value for key, value in optional.items() if value}
    if status:
        params["status"] = [s.value for s in status]
    if failed:
        params["failed"] = "true"
    if cursor:
        params["cursor"] = cursor
    page(api.call("GET", "/runs", params=params), as_json, _SUMMARY, "runs")


def _show_run(run: dict[str, Any]) -> None:
    fields(run, (*_SUMMARY, "paused", "suspended_on", "error", "output"))
    nodes = [
        {**node, "error": (node.get("error") or {}).get("type")} for node in run.get("nodes", [])
    ]
    table(nodes, ("id", "type", "status", "attempts", "started_at", "ended_at", "error"), "nodes")


@app.command()
def get(run: RunId, as_json: AsJson = False) -> None:
    """A run's status, output, error and nodes."""
    emit(_api().call("GET", f"/runs/{run_id_segment(run)}"), as_json, _show_run)


def _line(kind: str, data: dict[str, Any]) -> str:
    if kind == "log":
        return f"log {data.get('node_id')}: {data.get('message')}"
    if kind == "node":
        error = data.get("error") or {}
        why = f"  {error.get('type')}: {error.get('message')}" if error else ""
        attempts = data.get("attempts")
        return f"node {data.get('node_id')}: {data.get('status')} (attempts {attempts}){why}"
    return f"run: {data.get('status')}" + (" (paused)" if data.get("paused") else "")


def _follow(api: Api, run: str) -> Any:
    """Every event of the run until it ends, reconnecting where each stream stops."""
    last: str | None = None
    while True:
        for event in api.events(f"/runs/{run_id_segment(run)}/events", last):
            last = event.id or last
            yield event
            if event.kind == "run" and event.data.get("status") in _ENDED:
                return
        if api.call("GET", f"/runs/{run_id_segment(run)}").get("status") in _ENDED:
            return


@app.command()
def events(run: RunId, as_json: AsJson = False) -> None:
    """Print the run's node and run events as they happen, until it ends."""
    for event in _follow(_api(), run):
        if as_json:
            typer.echo(json.dumps({"event": event.kind, "id": event.id, "data": event.data}))
        else:
            typer.echo(_line(event.kind, event.data))


@app.command()
def watch(run: RunId) -> None:
    """Follow a run with a progress bar of its nodes, until it ends; exits 1 if it fails."""
    api = _api()
    current = api.call("GET", f"/runs/{run_id_segment(run)}")
    states = {node["id"]: node["status"] for node in current.get("nodes", [])}
    final = current.get("status")
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=False
    ) as progress:
        task = progress.add_task(f"run {run}", total=max(len(states), 1))

        def update() -> None:
            done = sum(1 for status in states.values() if status in _DONE)
            progress.update(task, total=max(len(states), 1), completed=done)

        update()
        if final not in _ENDED:
            for event in _follow(api, run):
                if event.kind == "node":
                    states[str(event.data.get("node_id"))] = str(event.data.get("status"))
                    update()
                progress.console.print(_line(event.kind, event.data))
                if event.kind == "run":
                    final = event.data.get("status")
            if final not in _ENDED:  # the stream stopped before the run's last event
                final = api.call("GET", f"/runs/{run_id_segment(run)}").get("status")
    typer.echo(f"run {run} {final}")
    if final != "succeeded":
        raise typer.Exit(1)


def _act(path: str, body: Any = None, as_json: bool = False) -> None:
    answer = _api().call("POST", path, json=body) if body is not None else _api().call("POST", path)
    emit(answer, as_json, lambda value: fields(value or {}, ("run_id", "status", "detail")))


@app.command()
def pause(run: RunId, as_json: AsJson = False) -> None:
    """Stop starting new nodes (running ones finish)."""
    _act(f"/runs/{run_id_segment(run)}/pause", as_json=as_json)


@app.command()
def resume(run: RunId, as_json: AsJson = False) -> None:
    """Continue a paused run."""
    _act(f"/runs/{run_id_segment(run)}/resume", as_json=as_json)


@app.command()
def cancel(run: RunId, as_json: AsJson = False) -> None:
    """Cancel a run: running activities are cancelled and the run ends `cancelled`."""
    _act(f"/runs/{run_id_segment(run)}/cancel", as_json=as_json)


@app.command()
def terminate(run: RunId, as_json: AsJson = False) -> None:
    """End a run at once, without cleanup."""
    _act(f"/runs/{run_id_segment(run)}/terminate", as_json=as_json)


@app.command()
def signal(
    run: RunId,
    name: Annotated[str, typer.Argument(help="The signal's name (a wait_for_signal's `signal`).")],
    payload: Annotated[str, typer.Option(help="The payload: JSON, or @file.json.")] = "null",
    as_json: AsJson = False,
) -> None:
    """Send a signal to a run waiting for it."""
    body = {"payload": parse_json(payload, "--payload")}
    _act(f"/runs/{run_id_segment(run)}/signals/{name}", body, as_json)


@app.command()
def retry(
    run: RunId,
    node: NodeId,
    config: Annotated[
        str | None, typer.Option(help="A corrected config for the node: JSON or @file.json.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Retry the node a suspended run stopped on, optionally with another config."""
    body = {"config": parse_json(config, "--config")} if config else {}
    _act(f"/runs/{run_id_segment(run)}/nodes/{node}/retry", body, as_json)


@app.command()
def skip(
    run: RunId,
    node: NodeId,
    output: Annotated[
        str, typer.Option(help="The output the node is to have: JSON or @file.json.")
    ] = "null",
    as_json: AsJson = False,
) -> None:
    """Skip the node a suspended run stopped on, giving it an output."""
    _act(
        f"/runs/{run_id_segment(run)}/nodes/{node}/skip",
        {"output": parse_json(output, "--output")},
        as_json,
    )


@app.command()
def rerun(
    run: RunId,
    from_node: Annotated[
        str | None,
        typer.Option(help="Rerun from this node; the nodes upstream keep their outputs."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Start a new run with the same input, from the start or from a node."""
    body = {"from_node": from_node} if from_node else {}
    _act(f"/runs/{run_id_segment(run)}/rerun", body, as_json)


class Version(StrEnum):
    """Which version a redrive runs."""

    same = "same"
    active = "active"


@app.command()
def redrive(
    runs: Annotated[
        list[str] | None, typer.Argument(help="Failed runs to redrive (or use the filters).")
    ] = None,
    workflow: Annotated[
        str | None, typer.Option(help="Every inbox run of this workflow (id or name).")
    ] = None,
    node: Annotated[str | None, typer.Option(help="Every inbox run this node failed.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Inbox runs started at or after (ISO 8601).")
    ] = None,
    version: Annotated[
        Version, typer.Option(help="Run the failed run's version, or the active one.")
    ] = Version.same,
    batch: Annotated[
        str | None,
        typer.Option(help="Show what an earlier redrive (its batch_id) has done, instead."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Rerun failed runs from their failing node, reusing every succeeded output.

    The API restarts them in a batch on Temporal; one still going when the API
    answers shows as running, followed with ``--batch BATCH_ID``.
    """
    api = _api()

    def readable(value: dict[str, Any]) -> None:
        typer.echo(f"batch {value['batch_id']}: {value['status']}")
        if value.get("error"):
            typer.echo(value["error"])
        table(value["runs"], ("run_id", "rerun_of", "version"), title="runs redriven")
        if value.get("refused"):
            table(value["refused"], ("run_id", "status", "detail"), title="refusals")
        if value["status"] == "running":
            typer.echo(f"still going: flowforge runs redrive --batch {value['batch_id']}")

    if batch is not None:
        if runs or workflow or node or since:
            fail("--batch shows an earlier redrive: give no run ids or filters with it")
        emit(api.call("GET", f"/runs/redrive/{batch}"), as_json, readable)
        return
    body: dict[str, Any] = {"version": version.value}
    if runs:
        if workflow or node or since:
            fail("give run ids or filters (--workflow, --node, --since), not both")
        body["run_ids"] = runs
    else:
        chosen: dict[str, Any] = {"node_id": node, "since": since}
        if workflow:
            found = find_workflow(api, workflow)
            if found is None:
                fail(f"no workflow with id or name {workflow!r}: see `flowforge workflows list`")
            chosen["workflow_id"] = found["id"]
        body["filter"] = {key: value for key, value in chosen.items() if value is not None}
    emit(api.call("POST", "/runs/redrive", json=body), as_json, readable)

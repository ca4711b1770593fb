"""``flowforge schedules|hooks|secrets|breakers``: what operators manage besides runs."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from app.cli.client import Api
from app.cli.output import AsJson, emit, fail, fields, table
from app.cli.runs import parse_json
from app.cli.settings import CliSettings
from app.cli.workflows import WorkflowRef, resolve

schedules = typer.Typer(help="A workflow's schedules (Temporal Schedules).", no_args_is_help=True)
hooks = typer.Typer(help="A workflow's inbound webhooks.", no_args_is_help=True)
secrets = typer.Typer(help="Your secrets (values are write-only).", no_args_is_help=True)
breakers = typer.Typer(help="Circuit breakers of the services nodes call.", no_args_is_help=True)

_SCHEDULE = ("schedule_id", "workflow_id", "cron", "interval", "timezone", "paused", "next_runs")
_HOOK = ("hook_id", "workflow_id", "url", "enabled", "require_timestamp", "created_at")
_BREAKER = ("service", "state", "failures", "opened_at", "open_until")


def _api() -> Api:
    return Api(CliSettings())


def _rows(api: Api, path: str) -> list[dict[str, Any]]:
    return [dict(item) for item in api.pages(path)]


# Schedules.


@schedules.command("list")
def list_schedules(workflow: WorkflowRef, as_json: AsJson = False) -> None:
    """The workflow's schedules."""
    api = _api()
    rows = _rows(api, f"/workflows/{resolve(api, workflow)['id']}/schedules")
    emit({"items": rows}, as_json, lambda _: table(rows, _SCHEDULE, "schedules"))


@schedules.command("create")
def create_schedule(
    workflow: WorkflowRef,
    cron: Annotated[str | None, typer.Option(help="When: a cron expression.")] = None,
    interval: Annotated[str | None, typer.Option(help="Or every this long (`1h`).")] = None,
    timezone: Annotated[str, typer.Option(help="The zone cron is read in.")] = "UTC",
    input: Annotated[str, typer.Option("--input", help="Each run's input: JSON or @file.")] = "{}",
    paused: Annotated[bool, typer.Option(help="Create it paused.")] = False,
    as_json: AsJson = False,
) -> None:
    """Run the workflow on a schedule."""
    if (cron is None) == (interval is None):
        fail("give exactly one of --cron and --interval")
    api = _api()
    body: dict[str, Any] = {"timezone": timezone, "input": parse_json(input, "--input")}
    body |= {"cron": cron} if cron else {"interval": interval}
    body["paused"] = paused
    made = api.call("POST", f"/workflows/{resolve(api, workflow)['id']}/schedules", json=body)
    emit(made, as_json, lambda value: fields(value, _SCHEDULE))


def _schedule_change(schedule_id: str, body: dict[str, Any], as_json: bool) -> None:
    answer = _api().call("PATCH", f"/schedules/{schedule_id}", json=body)
    emit(answer, as_json, lambda value: fields(value, _SCHEDULE))


ScheduleId = Annotated[str, typer.Argument(help="The schedule's id.")]


@schedules.command("pause")
def pause_schedule(schedule_id: ScheduleId, as_json: AsJson = False) -> None:
    """Stop a schedule from firing until it is resumed."""
    _schedule_change(schedule_id, {"paused": True}, as_json)


@schedules.command("resume")
def resume_schedule(schedule_id: ScheduleId, as_json: AsJson = False) -> None:
    """Let a paused schedule fire again."""
    _schedule_change(schedule_id, {"paused": False}, as_json)


@schedules.command("trigger")
def trigger_schedule(schedule_id: ScheduleId) -> None:
    """Start one run of the schedule now."""
    _api().call("POST", f"/schedules/{schedule_id}/trigger")
    typer.echo(f"triggered {schedule_id}")


@schedules.command("delete")
def delete_schedule(schedule_id: ScheduleId) -> None:
    """Delete a schedule."""
    _api().call("DELETE", f"/schedules/{schedule_id}")
    typer.echo(f"deleted {schedule_id}")


# Inbound webhooks.


@hooks.command("list")
def list_hooks(workflow: WorkflowRef, as_json: AsJson = False) -> None:
    """The workflow's inbound webhooks."""
    api = _api()
    rows = _rows(api, f"/workflows/{resolve(api, workflow)['id']}/webhooks")
    emit({"items": rows}, as_json, lambda _: table(rows, _HOOK, "hooks"))


@hooks.command("create")
def create_hook(
    workflow: WorkflowRef,
    require_timestamp: Annotated[
        bool, typer.Option(help="Refuse deliveries without a signed X-Timestamp.")
    ] = True,
    as_json: AsJson = False,
) -> None:
    """Create a webhook that starts the workflow; its secret is shown only now."""
    api = _api()
    made = api.call(
        "POST",
        f"/workflows/{resolve(api, workflow)['id']}/webhooks",
        json={"require_timestamp": require_timestamp},
    )
    emit(made, as_json, lambda value: fields(value, (*_HOOK, "secret")))


@hooks.command("delete")
def delete_hook(hook_id: Annotated[str, typer.Argument(help="The hook's id.")]) -> None:
    """Delete a webhook: its URL stops starting runs."""
    _api().call("DELETE", f"/webhooks/{hook_id}")
    typer.echo(f"deleted {hook_id}")


# Secrets.


@secrets.command("list")
def list_secrets(as_json: AsJson = False) -> None:
    """Your secrets' names (never their values)."""
    rows = _rows(_api(), "/secrets")
    emit({"items": rows}, as_json, lambda _: table(rows, ("name", "updated_at"), "secrets"))


@secrets.command("set")
def set_secret(
    name: Annotated[str, typer.Argument(help="The secret's name (`{{ secrets.NAME }}`).")],
    value: Annotated[
        str | None,
        typer.Option(help="The value; omit it to read it from stdin (kept out of shell history)."),
    ] = None,
) -> None:
    """Create or replace a secret."""
    secret = value if value is not None else sys.stdin.read().rstrip("\n")
    if not secret:
        fail("the secret is empty: give --value or pipe it on stdin")
    _api().call("POST", "/secrets", json={"name": name, "value": secret})
    typer.echo(f"stored {name}")


@secrets.command("delete")
def delete_secret(name: Annotated[str, typer.Argument(help="The secret's name.")]) -> None:
    """Delete a secret."""
    _api().call("DELETE", f"/secrets/{name}")
    typer.echo(f"deleted {name}")


# Circuit breakers.

Service = Annotated[str, typer.Argument(help="The breaker's service name.")]


@breakers.command("list")
def list_breakers(as_json: AsJson = False) -> None:
    """Every circuit breaker you may see, with its state."""
    rows = _rows(_api(), "/circuit-breakers")
    emit({"items": rows}, as_json, lambda _: table(rows, _BREAKER, "circuit breakers"))


@breakers.command("get")
def get_breaker(service: Service, as_json: AsJson = False) -> None:
    """One breaker's state and config."""
    answer = _api().call("GET", f"/circuit-breakers/{service}")
    emit(answer, as_json, lambda value: fields(value, (*_BREAKER, "config")))


@breakers.command("reset")
def reset_breaker(service: Service, as_json: AsJson = False) -> None:
    """Close a breaker now and forget its failures."""
    answer = _api().call("POST", f"/circuit-breakers/{service}/reset")
    emit(answer, as_json, lambda value: fields(value or {}, _BREAKER))


# The failures inbox.

_FAILURE = ("workflow_id", "node_id", "count", "first_at", "latest_at", "latest_error")


def failures(
    workflow: Annotated[
        str | None, typer.Option(help="Only this workflow's failures (id or name).")
    ] = None,
    dismiss: Annotated[
        str | None, typer.Option(help="Dismiss this failed run from the inbox instead.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Failed runs not yet redriven or dismissed, by workflow and failing node."""
    api = _api()
    if dismiss is not None:
        emit(
            api.call("POST", f"/failures/{dismiss}/dismiss"),
            as_json,
            lambda value: fields(value, ("run_id", "dismissed")),
        )
        return
    params = {"workflow_id": resolve(api, workflow)["id"]} if workflow else {}
    answer = api.call("GET", "/failures", params=params)

    def readable(value: dict[str, Any]) -> None:
        rows = [
            {
                **group,
                "first_at": group["first"]["ended_at"],
                "latest_at": group["latest"]["ended_at"],
                "latest_error": (group["latest"].get("error") or {}).get("message"),
            }
            for group in value["groups"]
        ]
        table(rows, _FAILURE, title="failures")
        if value.get("truncated"):
            typer.echo(f"(only the newest {value['examined']} failed runs were looked at)")

    emit(answer, as_json, readable)

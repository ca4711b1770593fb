"""The operator's CLI against the real API, worker and Temporal: tables, --json and exit codes."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from temporalio.worker import Worker
from typer.testing import CliRunner, Result

from app.cli.main import app
from tests.support.api import API, Actor, definition, waiting_definition


def _cli(served_api: str, actor: Actor, tmp_path: Path) -> Any:
    env = {
        "FLOWFORGE_API_URL": served_api,
        "FLOWFORGE_TOKEN": actor.headers["Authorization"].removeprefix("Bearer "),
        "FLOWFORGE_CLI_CONFIG_DIR": str(tmp_path / "config"),
    }

    async def run(*args: str, stdin: str | None = None) -> Result:
        # Off the event loop: the worker answering the API's queries runs on it.
        return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env, input=stdin)

    return run


async def test_workflows_validate_apply_get_diff_and_delete(
    served_api: str, editor: Actor, tmp_path: Path
) -> None:
    cli = _cli(served_api, editor, tmp_path)
    name = f"cli-{uuid.uuid4().hex[:8]}"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(definition(name, nodes=[{"id": "a", "type": "HTTP_REQUEST"}])))
    invalid = await cli("workflows", "validate", str(bad))
    assert invalid.exit_code == 1
    assert "/nodes/0/type" in invalid.stdout
    assert "did you mean 'http'?" in invalid.stdout

    good = tmp_path / "good.json"
    good.write_text(json.dumps(definition(name)))
    assert (await cli("workflows", "validate", str(good))).stdout.strip() == "valid"
    assert (await cli("workflows", "apply", str(good))).exit_code == 0
    good.write_text(json.dumps(definition(name, description="second")))
    assert (await cli("workflows", "apply", str(good))).exit_code == 0

    listed = await cli("workflows", "list")
    assert name in listed.stdout
    got = await cli("workflows", "get", name, "--json")
    assert json.loads(got.stdout)["version"] == 2
    diff = await cli("workflows", "diff", name, "1")
    assert '+  "description": "second",' in diff.stdout
    versions = await cli("workflows", "versions", name)
    assert versions.exit_code == 0, versions.output
    paused = await cli("workflows", "pause", name, "--json")
    assert json.loads(paused.stdout)["status"] == "paused"
    refused = await cli("runs", "start", name)
    assert refused.exit_code == 1
    assert "is paused" in refused.stderr
    resumed = await cli("workflows", "resume", name)
    assert "active" in resumed.stdout
    assert (await cli("workflows", "delete", name, "--yes")).exit_code == 0
    gone = await cli("workflows", "get", name)
    assert gone.exit_code == 1
    assert f"no workflow with id or name {name!r}" in gone.stderr


async def test_runs_start_watch_events_list_and_signal(
    served_api: str, http: httpx.AsyncClient, editor: Actor, worker: Worker, tmp_path: Path
) -> None:
    cli = _cli(served_api, editor, tmp_path)
    made = await http.post(
        f"{API}/workflows", json={"definition": definition()}, headers=editor.headers
    )
    workflow = made.json()
    started = await cli("runs", "start", workflow["name"], "--json")
    run_id = json.loads(started.stdout)["run_id"]

    watched = await cli("runs", "watch", run_id)
    assert watched.exit_code == 0, watched.output
    assert f"run {run_id} succeeded" in watched.stdout
    events = await cli("runs", "events", run_id, "--json")
    kinds = [json.loads(line)["event"] for line in events.stdout.splitlines()]
    assert kinds[-1] == "run"
    listed = await cli("runs", "list", "--workflow", workflow["id"], "--json")
    assert [r["run_id"] for r in json.loads(listed.stdout)["items"]] == [run_id]
    table = await cli("runs", "get", run_id)
    assert "succeeded" in table.stdout
    assert "greet  transform  succeeded" in table.stdout

    waiting = await http.post(
        f"{API}/workflows",
        json={"definition": _signal_definition()},
        headers=editor.headers,
    )
    second = await cli("runs", "start", waiting.json()["id"], "--json")
    second_id = json.loads(second.stdout)["run_id"]
    # One CLI call at a time: CliRunner swaps the process's stdout while it runs.
    sent = None
    for _ in range(100):
        sent = await cli("runs", "signal", second_id, "go", "--payload", '{"ok": true}')
        if sent.exit_code == 0:
            break
        await asyncio.sleep(0.2)
    assert sent is not None
    assert sent.exit_code == 0, sent.output
    watched_second = await cli("runs", "watch", second_id)
    assert watched_second.exit_code == 0, watched_second.output


def _signal_definition() -> dict[str, Any]:
    return definition(nodes=[{"id": "hold", "type": "wait_for_signal", "config": {"signal": "go"}}])


async def test_secrets_schedules_hooks_and_breakers(
    served_api: str, http: httpx.AsyncClient, editor: Actor, tmp_path: Path
) -> None:
    cli = _cli(served_api, editor, tmp_path)
    secret = f"s_{uuid.uuid4().hex[:8]}"
    stored = await cli("secrets", "set", secret, stdin="hunter2-but-longer\n")
    assert stored.exit_code == 0, stored.output
    listed = await cli("secrets", "list", "--json")
    assert secret in [s["name"] for s in json.loads(listed.stdout)["items"]]
    assert "hunter2" not in listed.stdout
    assert (await cli("secrets", "delete", secret)).exit_code == 0

    made = await http.post(
        f"{API}/workflows", json={"definition": waiting_definition()}, headers=editor.headers
    )
    workflow_id = made.json()["id"]
    both = await cli("schedules", "create", workflow_id)
    assert both.exit_code == 1
    assert "exactly one of --cron and --interval" in both.stderr
    schedule = await cli(
        "schedules", "create", workflow_id, "--interval", "1h", "--paused", "--json"
    )
    assert schedule.exit_code == 0, schedule.output
    schedule_id = json.loads(schedule.stdout)["schedule_id"]
    resumed = await cli("schedules", "resume", schedule_id, "--json")
    assert json.loads(resumed.stdout)["paused"] is False
    assert schedule_id in (await cli("schedules", "list", workflow_id)).stdout
    assert (await cli("schedules", "delete", schedule_id)).exit_code == 0

    hook = await cli("hooks", "create", workflow_id, "--json")
    created = json.loads(hook.stdout)
    assert created["secret"]
    assert created["hook_id"] in (await cli("hooks", "list", workflow_id)).stdout
    assert (await cli("hooks", "delete", created["hook_id"])).exit_code == 0

    breakers = await cli("breakers", "list")
    assert breakers.exit_code == 0, breakers.output

"""Failed runs: rerun links, the failures inbox, bulk redrive and node retries that redrive."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from temporalio.worker import Worker
from typer.testing import CliRunner, Result

from app.cli.main import app
from tests.support.api import API, Actor, create_workflow, definition, run_becomes
from tests.support.peer import Peer, Reply


def _flaky(peer: Peer, path: str) -> dict[str, Any]:
    return definition(
        nodes=[
            {"id": "first", "type": "transform", "config": {"value": "{{ input.n * 2 }}"}},
            {
                "id": "call",
                "type": "http",
                "config": {"method": "GET", "url": f"{peer.url}{path}"},
                "retry": {"strategy": "none"},
            },
            {"id": "after", "type": "transform", "config": {"value": "{{ nodes.first.output }}"}},
        ],
        edges=[{"from": "first", "to": "call"}, {"from": "call", "to": "after"}],
        output="{{ nodes.after.output }}",
    )


async def _failed_runs(
    http: httpx.AsyncClient, actor: Actor, peer: Peer, path: str, count: int
) -> tuple[dict[str, Any], list[str]]:
    peer.route(path, Reply(503, {"down": True}))
    workflow = await create_workflow(http, actor, _flaky(peer, path))
    run_ids = []
    for n in range(count):
        started = await http.post(
            f"{API}/workflows/{workflow['id']}/runs",
            json={"input": {"n": n}},
            headers=actor.headers,
        )
        assert started.status_code == 202, started.text
        run_ids.append(started.json()["run_id"])
    for run_id in run_ids:
        await run_becomes(http, actor, run_id, "failed")
    return workflow, run_ids


async def _groups(http: httpx.AsyncClient, actor: Actor, workflow_id: str) -> list[dict[str, Any]]:
    response = await http.get(
        f"{API}/failures", params={"workflow_id": workflow_id}, headers=actor.headers
    )
    assert response.status_code == 200, response.text
    groups: list[dict[str, Any]] = response.json()["groups"]
    return groups


async def test_the_inbox_groups_failed_runs_and_a_redrive_reuses_what_succeeded(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, other_editor: Actor, peer: Peer
) -> None:
    workflow, run_ids = await _failed_runs(http, editor, peer, "/inbox", 3)

    groups = await _groups(http, editor, workflow["id"])
    assert len(groups) == 1
    group = groups[0]
    assert (group["workflow_id"], group["node_id"], group["count"]) == (workflow["id"], "call", 3)
    assert sorted(group["run_ids"]) == sorted(run_ids)
    assert group["first"]["run_id"] == run_ids[0]
    assert group["latest"]["run_id"] == run_ids[-1]
    assert group["latest"]["error"]["type"]
    assert group["first"]["error"]["message"]
    # Someone else's failures are not in their inbox, nor theirs to dismiss.
    assert await _groups(http, other_editor, workflow["id"]) == []
    refused = await http.post(f"{API}/failures/{run_ids[0]}/dismiss", headers=other_editor.headers)
    assert refused.status_code == 404

    dismissed = await http.post(f"{API}/failures/{run_ids[0]}/dismiss", headers=editor.headers)
    assert dismissed.status_code == 200, dismissed.text
    assert (await _groups(http, editor, workflow["id"]))[0]["count"] == 2

    # The peer recovers: redrive one run by id.
    peer.route("/inbox", Reply(200, {"ok": True}))
    response = await http.post(
        f"{API}/runs/redrive", json={"run_ids": [run_ids[1]]}, headers=editor.headers
    )
    assert response.status_code == 202, response.text
    [redriven] = response.json()["runs"]
    assert redriven["rerun_of"] == run_ids[1]
    rerun = await run_becomes(http, editor, redriven["run_id"], "succeeded")
    reused = {node["id"]: node["reused"] for node in rerun["nodes"]}
    assert reused == {"first": True, "call": False, "after": False}
    assert rerun["output"] == 2
    assert rerun["rerun_of"] == run_ids[1]
    original = (await http.get(f"{API}/runs/{run_ids[1]}", headers=editor.headers)).json()
    assert original["rerun_of"] is None
    assert original["reruns"] == [redriven["run_id"]]

    # Redriven and dismissed runs have left the inbox; a filter redrives the rest.
    assert (await _groups(http, editor, workflow["id"]))[0]["run_ids"] == [run_ids[2]]
    by_filter = await http.post(
        f"{API}/runs/redrive",
        json={"filter": {"workflow_id": workflow["id"], "node_id": "call"}, "version": "active"},
        headers=editor.headers,
    )
    assert by_filter.status_code == 202, by_filter.text
    assert [run["rerun_of"] for run in by_filter.json()["runs"]] == [run_ids[2]]
    await run_becomes(http, editor, by_filter.json()["runs"][0]["run_id"], "succeeded")
    assert await _groups(http, editor, workflow["id"]) == []


async def test_a_rerun_links_both_ways(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    peer.route("/links", Reply(200, {"ok": True}))
    workflow = await create_workflow(http, editor, _flaky(peer, "/links"))
    started = await http.post(
        f"{API}/workflows/{workflow['id']}/runs", json={"input": {"n": 1}}, headers=editor.headers
    )
    run_id = started.json()["run_id"]
    await run_becomes(http, editor, run_id, "succeeded")
    accepted = await http.post(f"{API}/runs/{run_id}/rerun", headers=editor.headers)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["rerun_of"] == run_id
    rerun = await run_becomes(http, editor, accepted.json()["run_id"], "succeeded")
    assert (rerun["rerun_of"], rerun["reruns"]) == (run_id, [])
    original = (await http.get(f"{API}/runs/{run_id}", headers=editor.headers)).json()
    assert original["reruns"] == [accepted.json()["run_id"]]
    # Only failed runs are redriven: the refusal says so, per run.
    response = await http.post(
        f"{API}/runs/redrive", json={"run_ids": [run_id]}, headers=editor.headers
    )
    assert response.status_code == 202, response.text
    [refused] = response.json()["refused"]
    assert (refused["run_id"], refused["status"]) == (run_id, 409)
    assert "not failed" in refused["detail"]


async def test_retrying_a_node_of_a_failed_run_redrives_it(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    _, [run_id] = await _failed_runs(http, editor, peer, "/retry", 1)
    peer.route("/retry", Reply(200, {"ok": True}))
    response = await http.post(f"{API}/runs/{run_id}/nodes/call/retry", headers=editor.headers)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["rerun_of"] == run_id
    assert answer["run_id"] != run_id
    rerun = await run_becomes(http, editor, answer["run_id"], "succeeded")
    assert {node["id"]: node["reused"] for node in rerun["nodes"]}["first"] is True
    unknown = await http.post(f"{API}/runs/{run_id}/nodes/nope/retry", headers=editor.headers)
    assert unknown.status_code == 422


async def test_a_redrive_past_its_cap_is_refused(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    too_many = [f"run-{n}" for n in range(101)]
    response = await http.post(
        f"{API}/runs/redrive", json={"run_ids": too_many}, headers=editor.headers
    )
    assert response.status_code == 422
    assert "FLOWFORGE_REDRIVE_MAX_RUNS" in response.json()["detail"]
    neither = await http.post(f"{API}/runs/redrive", json={}, headers=editor.headers)
    assert neither.status_code == 422


async def test_the_cli_lists_failures_and_redrives(
    served_api: str,
    http: httpx.AsyncClient,
    worker: Worker,
    editor: Actor,
    peer: Peer,
    tmp_path: Path,
) -> None:
    workflow, [first, second] = await _failed_runs(http, editor, peer, "/cli", 2)
    env = {
        "FLOWFORGE_API_URL": served_api,
        "FLOWFORGE_TOKEN": editor.headers["Authorization"].removeprefix("Bearer "),
        "FLOWFORGE_CLI_CONFIG_DIR": str(tmp_path / "config"),
    }

    async def cli(*args: str) -> Result:
        # Off the event loop: the worker answering the API's queries runs on it.
        return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)

    listed = await cli("failures", "--workflow", workflow["name"])
    assert listed.exit_code == 0, listed.output
    assert "NODE_ID" in listed.stdout
    assert f"{workflow['id']}  call     2" in listed.stdout
    dismissed = await cli("failures", "--dismiss", first, "--json")
    assert json.loads(dismissed.stdout) == {"run_id": first, "dismissed": True}

    peer.route("/cli", Reply(200, {"ok": True}))
    redriven = await cli("runs", "redrive", "--workflow", workflow["name"], "--json")
    assert redriven.exit_code == 0, redriven.output
    answer = json.loads(redriven.stdout)
    [run] = answer["runs"]
    assert run["rerun_of"] == second
    await run_becomes(http, editor, run["run_id"], "succeeded")
    shown = await cli("runs", "redrive", "--batch", answer["batch_id"])
    assert shown.exit_code == 0, shown.output
    assert f"batch {answer['batch_id']}: succeeded" in shown.stdout
    assert run["run_id"] in shown.stdout
    assert "no failures" in (await cli("failures", "--workflow", workflow["id"])).stdout
    both = await cli("runs", "redrive", first, "--node", "call")
    assert both.exit_code == 1


async def test_a_redrive_on_the_active_version_reuses_outputs_by_node_id(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, viewer: Actor, peer: Peer
) -> None:
    workflow, [run_id] = await _failed_runs(http, editor, peer, "/active", 1)
    newer = _flaky(peer, "/active")
    newer["name"] = workflow["name"]
    newer["nodes"][2]["config"] = {"value": "{{ nodes.first.output + 100 }}"}
    changed = await http.put(
        f"{API}/workflows/{workflow['id']}", json={"definition": newer}, headers=editor.headers
    )
    assert changed.status_code == 200, changed.text
    peer.route("/active", Reply(200, {"ok": True}))
    assert (
        await http.post(f"{API}/runs/redrive", json={"run_ids": [run_id]}, headers=viewer.headers)
    ).status_code == 403
    response = await http.post(
        f"{API}/runs/redrive",
        json={"run_ids": [run_id], "version": "active"},
        headers=editor.headers,
    )
    assert response.status_code == 202, response.text
    [redriven] = response.json()["runs"]
    assert redriven["version"] == 2
    rerun = await run_becomes(http, editor, redriven["run_id"], "succeeded")
    assert rerun["version"] == 2
    assert rerun["output"] == 100
    assert {node["id"]: node["reused"] for node in rerun["nodes"]}["first"] is True
    # Only a failed run is dismissed.
    not_failed = await http.post(
        f"{API}/failures/{redriven['run_id']}/dismiss", headers=editor.headers
    )
    assert not_failed.status_code == 409
    assert "not failed" in not_failed.json()["detail"]


async def test_a_run_two_nodes_failed_is_grouped_by_the_one_that_failed_it(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    peer.route("/both", Reply(503, {"down": True}))
    call = {
        "type": "http",
        "config": {"method": "GET", "url": f"{peer.url}/both"},
        "retry": {"strategy": "none"},
    }
    body = definition(
        nodes=[{"id": "left", **call}, {"id": "right", **call}],
        edges=[],
        on_failure="continue",
    )
    workflow = await create_workflow(http, editor, body)
    started = await http.post(
        f"{API}/workflows/{workflow['id']}/runs", json={"input": {}}, headers=editor.headers
    )
    run_id = started.json()["run_id"]
    failed = await run_becomes(http, editor, run_id, "failed")
    assert {node["status"] for node in failed["nodes"]} == {"failed"}
    [group] = await _groups(http, editor, workflow["id"])
    assert group["node_id"] in {"left", "right"}
    assert group["latest"]["error"] == failed["error"]

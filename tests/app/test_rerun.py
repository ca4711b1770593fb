"""Rerunning a run: the same input and pinned version, optionally reusing upstream outputs."""

from __future__ import annotations

from typing import Any

import httpx
from temporalio.worker import Worker

from tests.support.api import API, Actor, create_workflow, definition, run_becomes

CHAIN = definition(
    nodes=[
        {"id": "first", "type": "transform", "config": {"value": "{{ input.n * 2 }}"}},
        {"id": "second", "type": "transform", "config": {"value": "{{ nodes.first.output + 1 }}"}},
        {"id": "third", "type": "transform", "config": {"value": "{{ nodes.second.output * 10 }}"}},
    ],
    edges=[{"from": "first", "to": "second"}, {"from": "second", "to": "third"}],
    output="{{ nodes.third.output }}",
)


async def _finished_run(http: httpx.AsyncClient, actor: Actor) -> tuple[dict[str, Any], str]:
    workflow = await create_workflow(http, actor, {**CHAIN, "name": definition()["name"]})
    started = await http.post(
        f"{API}/workflows/{workflow['id']}/runs", json={"input": {"n": 3}}, headers=actor.headers
    )
    run_id: str = started.json()["run_id"]
    await run_becomes(http, actor, run_id, "succeeded")
    return workflow, run_id


async def test_a_rerun_keeps_the_input_and_the_pinned_version(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    workflow, run_id = await _finished_run(http, editor)
    newer = definition(name=workflow["name"])
    await http.put(
        f"{API}/workflows/{workflow['id']}", json={"definition": newer}, headers=editor.headers
    )
    response = await http.post(f"{API}/runs/{run_id}/rerun", headers=editor.headers)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["run_id"] != run_id
    assert accepted["version"] == 1
    rerun = await run_becomes(http, editor, accepted["run_id"], "succeeded")
    assert (rerun["input"], rerun["output"], rerun["trigger"], rerun["version"]) == (
        {"n": 3},
        70,
        "rerun",
        1,
    )
    assert not any(node["reused"] for node in rerun["nodes"])


async def test_a_rerun_from_a_node_reuses_what_is_upstream(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    _, run_id = await _finished_run(http, editor)
    response = await http.post(
        f"{API}/runs/{run_id}/rerun", json={"from_node": "third"}, headers=editor.headers
    )
    assert response.status_code == 202, response.text
    rerun = await run_becomes(http, editor, response.json()["run_id"], "succeeded")
    reused = {node["id"]: node["reused"] for node in rerun["nodes"]}
    assert reused == {"first": True, "second": True, "third": False}
    assert rerun["output"] == 70

    unknown = await http.post(
        f"{API}/runs/{run_id}/rerun", json={"from_node": "nope"}, headers=editor.headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"] == "/body/from_node"


async def test_others_get_404_and_viewers_403(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, other_editor: Actor, viewer: Actor
) -> None:
    _, run_id = await _finished_run(http, editor)
    assert (
        await http.post(f"{API}/runs/{run_id}/rerun", headers=other_editor.headers)
    ).status_code == 404
    assert (
        await http.post(f"{API}/runs/{run_id}/rerun", headers=viewer.headers)
    ).status_code == 403
    assert (
        await http.post(f"{API}/runs/run-nope/rerun", headers=editor.headers)
    ).status_code == 404

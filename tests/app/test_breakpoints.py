"""Breakpoints and stepping: pause before chosen nodes, look at what they will see, step on.

Through the real stack: runs on the real Temporal dev server and worker, the
http node calling a real peer on 127.0.0.1 (which must see nothing while the
run is held before that node).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import API, Actor, create_workflow, definition, run_becomes
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply

pytestmark = pytest.mark.usefixtures("worker")


def _chain(peer: Peer) -> dict[str, Any]:
    return definition(
        nodes=[
            {"id": "prepare", "type": "transform", "config": {"value": {"sku": "{{ input.sku }}"}}},
            {
                "id": "order",
                "type": "http",
                "config": {
                    "method": "POST",
                    "url": f"{peer.url}/orders/{{{{ nodes.prepare.output.sku }}}}",
                    "headers": {"Authorization": "Bearer {{ secrets.shop_token }}"},
                    "body": {"sku": "{{ nodes.prepare.output.sku }}"},
                },
            },
            {
                "id": "done",
                "type": "transform",
                "config": {"value": "{{ nodes.order.output.status }}"},
            },
        ],
        edges=[{"from": "prepare", "to": "order"}, {"from": "order", "to": "done"}],
        output="{{ nodes.done.output }}",
    )


async def _start(
    http: httpx.AsyncClient, actor: Actor, body: dict[str, Any], **start: Any
) -> httpx.Response:
    stored = await http.post(
        f"{API}/secrets", json={"name": "shop_token", "value": "s3cr3t-value"},
        headers=actor.headers,
    )  # fmt: skip
    assert stored.status_code in (200, 201), stored.text
    created = await create_workflow(http, actor, body)
    return await http.post(
        f"{API}/workflows/{created['id']}/runs", json=start, headers=actor.headers
    )


async def _held_before(
    http: httpx.AsyncClient, actor: Actor, run_id: str, node: str
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        run: dict[str, Any] = (await http.get(f"{API}/runs/{run_id}", headers=actor.headers)).json()
        return run if (run["status"], run["paused_before"]) == ("paused", node) else None

    return await eventually(probe, what=f"run {run_id} to pause before {node}")


async def test_a_breakpoint_holds_the_node_its_scope_shows_and_a_step_runs_only_it(
    http: httpx.AsyncClient, editor: Actor, peer: Peer
) -> None:
    peer.route("/orders/A-1", Reply(body={"status": 200}))
    started = await _start(http, editor, _chain(peer), input={"sku": "A-1"}, breakpoints=["order"])
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    await _held_before(http, editor, run_id, "order")
    assert peer.hits("/orders/A-1") == []
    scope = (await http.get(f"{API}/runs/{run_id}/scope", headers=editor.headers)).json()
    assert scope["paused_before"] == "order"
    assert scope["variables"]["nodes"]["prepare"]["output"] == {"sku": "A-1"}
    assert scope["config"]["url"] == f"{peer.url}/orders/A-1"
    assert scope["config"]["body"] == {"sku": "A-1"}
    assert scope["config"]["headers"]["Authorization"] == "Bearer {{ secrets.shop_token }}"
    assert "s3cr3t-value" not in str(scope)

    stepped = await http.post(f"{API}/runs/{run_id}/step", headers=editor.headers)
    assert stepped.json() == {"started": ["order"]}
    await _held_before(http, editor, run_id, "done")  # stepping holds the next node too
    assert len(peer.hits("/orders/A-1")) == 1
    resumed = await http.post(f"{API}/runs/{run_id}/resume", headers=editor.headers)
    assert resumed.status_code == 202
    run = await run_becomes(http, editor, run_id, "succeeded")
    assert run["output"] == 200
    assert len(peer.hits("/orders/A-1")) == 1


async def test_every_node_and_breakpoints_changed_live(
    http: httpx.AsyncClient, editor: Actor, peer: Peer
) -> None:
    started = await _start(http, editor, _chain(peer), input={"sku": "B"}, breakpoints="*")
    run_id = started.json()["run_id"]
    await _held_before(http, editor, run_id, "prepare")
    cleared = await http.put(
        f"{API}/runs/{run_id}/breakpoints", json={"breakpoints": ["done"]}, headers=editor.headers
    )
    assert cleared.json() == {"breakpoints": ["done"]}
    await http.post(f"{API}/runs/{run_id}/resume", headers=editor.headers)
    await _held_before(http, editor, run_id, "done")
    assert len(peer.hits("/orders/B")) == 1
    await http.put(
        f"{API}/runs/{run_id}/breakpoints", json={"breakpoints": []}, headers=editor.headers
    )
    await http.post(f"{API}/runs/{run_id}/resume", headers=editor.headers)
    await run_becomes(http, editor, run_id, "succeeded")


async def test_a_breakpoint_in_a_for_each_body_holds_each_item(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    body = definition(
        nodes=[
            {
                "id": "loop",
                "type": "for_each",
                "config": {
                    "items": "[1, 2]",
                    "max_concurrency": 1,
                    "body": {"nodes": [{"id": "double", "type": "transform",
                                        "config": {"value": "{{ item * 2 }}"}}]},
                },
            }
        ],
    )  # fmt: skip
    started = await _start(http, editor, body, breakpoints=["loop[*].double"])
    run_id = started.json()["run_id"]
    await _held_before(http, editor, run_id, "loop[0].double")
    scope = (await http.get(f"{API}/runs/{run_id}/scope", headers=editor.headers)).json()
    assert scope["variables"]["item"] == 1
    await http.post(f"{API}/runs/{run_id}/resume", headers=editor.headers)
    await _held_before(http, editor, run_id, "loop[1].double")
    await http.post(f"{API}/runs/{run_id}/resume", headers=editor.headers)
    await run_becomes(http, editor, run_id, "succeeded")


async def test_bad_breakpoints_and_steps_are_refused_with_the_reason(
    http: httpx.AsyncClient, editor: Actor, peer: Peer
) -> None:
    refused = await _start(http, editor, _chain(peer), input={"sku": "C"}, breakpoints=["nope"])
    assert refused.status_code == 422
    assert "'nope'" in refused.json()["detail"]
    started = await _start(
        http,
        editor,
        definition(nodes=[{"id": "hold", "type": "wait", "config": {"duration": "1h"}}]),
    )
    run_id = started.json()["run_id"]
    await run_becomes(http, editor, run_id, "running")
    step = await http.post(f"{API}/runs/{run_id}/step", headers=editor.headers)
    assert step.status_code == 409
    assert "not paused" in step.json()["detail"]
    bad = await http.put(
        f"{API}/runs/{run_id}/breakpoints", json={"breakpoints": ["ghost"]}, headers=editor.headers
    )
    assert bad.status_code == 422
    assert "'ghost'" in bad.json()["detail"]
    scope = (await http.get(f"{API}/runs/{run_id}/scope", headers=editor.headers)).json()
    assert scope["paused_before"] is None
    await http.post(f"{API}/runs/{run_id}/terminate", headers=editor.headers)

"""A run suspended on a failed node, retried or skipped through the API."""

from __future__ import annotations

from typing import Any

import httpx
from temporalio.worker import Worker

from tests.support.api import API, Actor, definition, run_becomes, run_of, waiting_definition
from tests.support.peer import Peer, Reply


def suspending(url: str) -> dict[str, Any]:
    """``charge`` (an http call, no retries) then ``ship``; a failure suspends the run."""
    return definition(
        on_failure="suspend",
        nodes=[
            {
                "id": "charge",
                "type": "http",
                "retry": {"strategy": "none"},
                "config": {"method": "GET", "url": f"{url}/charge"},
            },
            {"id": "ship", "type": "transform", "config": {"value": "{{ nodes.charge.output }}"}},
        ],
        edges=[{"from": "charge", "to": "ship"}],
        output="{{ nodes.ship.output.body }}",
    )


async def suspended_run(http: httpx.AsyncClient, actor: Actor, peer: Peer) -> str:
    peer.route("/charge", Reply(500, {"error": "card declined"}))
    run_id = await run_of(http, actor, suspending(peer.url))
    run = await run_becomes(http, actor, run_id, "suspended")
    assert {n["id"]: n["status"] for n in run["nodes"]} == {"charge": "failed", "ship": "pending"}
    return run_id


async def act(
    http: httpx.AsyncClient, actor: Actor, run_id: str, node: str, action: str, body: Any = None
) -> httpx.Response:
    return await http.post(
        f"{API}/runs/{run_id}/nodes/{node}/{action}", json=body, headers=actor.headers
    )


async def test_retry_with_a_patched_config_lets_the_run_succeed(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    run_id = await suspended_run(http, editor, peer)
    peer.route("/charge2", Reply(200, {"charged": True}))

    wrong = await act(http, editor, run_id, "ship", "retry")
    assert wrong.status_code == 409, wrong.text
    assert "suspended on node 'charge', not 'ship'" in wrong.json()["detail"]

    retried = await act(
        http, editor, run_id, "charge", "retry", {"config": {"url": f"{peer.url}/charge2"}}
    )
    assert retried.status_code == 202, retried.text
    assert retried.json() == {"run_id": run_id, "status": "running"}
    run = await run_becomes(http, editor, run_id, "succeeded")
    assert run["output"] == {"charged": True}
    charge = next(n for n in run["nodes"] if n["id"] == "charge")
    assert (charge["status"], charge["attempts"]) == ("succeeded", 2)
    assert len(peer.hits("/charge")) == 1
    assert len(peer.hits("/charge2")) == 1


async def test_retry_without_a_body_runs_the_node_as_it_was(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    run_id = await suspended_run(http, editor, peer)
    peer.route("/charge", Reply(200, {"charged": "later"}))
    retried = await http.post(f"{API}/runs/{run_id}/nodes/charge/retry", headers=editor.headers)
    assert retried.status_code == 202, retried.text
    run = await run_becomes(http, editor, run_id, "succeeded")
    assert run["output"] == {"charged": "later"}


async def test_skip_with_an_output_lets_the_run_succeed(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    run_id = await suspended_run(http, editor, peer)
    skipped = await act(http, editor, run_id, "charge", "skip", {"output": {"body": "manual"}})
    assert skipped.status_code == 202, skipped.text
    assert skipped.json() == {"run_id": run_id, "status": "running"}
    run = await run_becomes(http, editor, run_id, "succeeded")
    assert run["output"] == "manual"
    assert {n["id"]: n["status"] for n in run["nodes"]} == {
        "charge": "skipped",
        "ship": "succeeded",
    }
    # Nothing is suspended any more: a second skip is refused.
    again = await act(http, editor, run_id, "charge", "skip", {"output": 1})
    assert again.status_code == 409


async def test_a_failing_transform_suspends_and_can_be_skipped(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    body = definition(
        on_failure="suspend",
        nodes=[
            {"id": "read", "type": "transform", "config": {"value": "{{ input.order.id }}"}},
            {"id": "use", "type": "transform", "config": {"value": "{{ nodes.read.output }}"}},
        ],
        edges=[{"from": "read", "to": "use"}],
        output="{{ nodes.use.output }}",
    )
    run_id = await run_of(http, editor, body)
    run = await run_becomes(http, editor, run_id, "suspended")
    read = next(n for n in run["nodes"] if n["id"] == "read")
    assert read["status"] == "failed"
    assert read["error"]["type"] == "ExpressionError"
    assert (await act(http, editor, run_id, "read", "skip", {"output": 7})).status_code == 202
    assert (await run_becomes(http, editor, run_id, "succeeded"))["output"] == 7


async def test_retry_and_skip_need_a_run_suspended_on_that_node(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    running = await run_of(http, editor, waiting_definition())
    await run_becomes(http, editor, running, "running")
    for action in ("retry", "skip"):
        response = await act(http, editor, running, "hold", action, {})
        assert response.status_code == 409, response.text
        assert "the run is not suspended" in response.json()["detail"]

    finished = await run_of(http, editor, definition())
    await run_becomes(http, editor, finished, "succeeded")
    for action in ("retry", "skip"):
        response = await act(http, editor, finished, "greet", action, {})
        assert response.status_code == 409, response.text
        assert "succeeded" in response.json()["detail"]


async def test_who_may_retry_or_skip(
    http: httpx.AsyncClient,
    worker: Worker,
    editor: Actor,
    other_editor: Actor,
    viewer: Actor,
    admin: Actor,
    peer: Peer,
) -> None:
    run_id = await suspended_run(http, editor, peer)
    for action, body in (("retry", {}), ("skip", {"output": None})):
        assert (await act(http, other_editor, run_id, "charge", action, body)).status_code == 404
        assert (await act(http, viewer, run_id, "charge", action, body)).status_code == 403
        assert (await act(http, editor, "run-nobody", "charge", action, body)).status_code == 404
    assert (await run_becomes(http, editor, run_id, "suspended"))["status"] == "suspended"
    skipped = await act(http, admin, run_id, "charge", "skip", {"output": {"body": "by admin"}})
    assert skipped.status_code == 202
    assert (await run_becomes(http, editor, run_id, "succeeded"))["output"] == "by admin"

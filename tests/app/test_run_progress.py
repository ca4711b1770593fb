"""A run's progress as the dashboard reads it: retrying nodes, node counts, links."""

from __future__ import annotations

from typing import Any

import httpx
from temporalio.worker import Worker

from tests.app.test_run_suspend import suspended_run
from tests.support.api import API, Actor, definition, run_becomes, run_of
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply


def retrying(url: str) -> dict[str, Any]:
    """``fetch`` (http, three attempts five seconds apart) then ``after``."""
    return definition(
        nodes=[
            {
                "id": "fetch",
                "type": "http",
                "retry": {
                    "strategy": "fixed",
                    "max_attempts": 3,
                    "initial_interval": "5s",
                    "max_interval": "5s",
                },
                "config": {"method": "GET", "url": f"{url}/flaky"},
            },
            {"id": "after", "type": "transform", "config": {"value": "done"}},
        ],
        edges=[{"from": "fetch", "to": "after"}],
    )


async def _node(http: httpx.AsyncClient, actor: Actor, run_id: str, node: str) -> dict[str, Any]:
    run = (await http.get(f"{API}/runs/{run_id}", headers=actor.headers)).json()
    found: dict[str, Any] = next(n for n in run["nodes"] if n["id"] == node)
    return found | {"run": run}


async def test_a_node_between_attempts_reads_retrying_with_its_last_error(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    peer.route("/flaky", Reply(503, {"error": "busy"}))
    run_id = await run_of(http, editor, retrying(peer.url))

    async def between_attempts() -> dict[str, Any] | None:
        node = await _node(http, editor, run_id, "fetch")
        return node if node["status"] == "retrying" else None

    node = await eventually(between_attempts, what="fetch to be retrying")
    assert node["attempts"] == 1
    assert node["last_error"]["type"] == "HttpStatusError"
    assert "503" in node["last_error"]["message"]
    assert node["next_attempt_at"]
    counts = node["run"]["node_counts"]
    assert (counts["retrying"], counts["pending"], counts["succeeded"]) == (1, 1, 0)
    assert node["run"]["status"] == "running"

    peer.route("/flaky", Reply(200, {"ok": True}))
    run = await run_becomes(http, editor, run_id, "succeeded")
    fetch = next(n for n in run["nodes"] if n["id"] == "fetch")
    assert (fetch["status"], fetch["attempts"], fetch["last_error"]) == ("succeeded", 2, None)
    assert run["node_counts"]["succeeded"] == 2
    assert len(peer.hits("/flaky")) == 2


async def test_a_suspended_run_names_its_node_and_links_to_the_dashboard(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    run_id = await suspended_run(http, editor, peer)
    run = (await http.get(f"{API}/runs/{run_id}", headers=editor.headers)).json()
    assert run["suspended_on"] == "charge"
    assert run["dashboard_url"] == f"http://flowforge.test/ui/runs/{run_id}"
    assert (run["node_counts"]["failed"], run["node_counts"]["pending"]) == (1, 1)


async def test_a_running_run_is_suspended_on_nothing(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    run_id = await run_of(http, editor, definition())
    run = await run_becomes(http, editor, run_id, "succeeded")
    assert run["suspended_on"] is None
    assert run["node_counts"] == {
        "pending": 0,
        "running": 0,
        "retrying": 0,
        "succeeded": 1,
        "failed": 0,
        "skipped": 0,
        "cancelled": 0,
        "waiting": 0,
    }

    async def listed() -> dict[str, Any] | None:
        page = (await http.get(f"{API}/runs", headers=editor.headers)).json()
        item = next((i for i in page["items"] if i["run_id"] == run_id), None)
        return item if item and item["status"] == "succeeded" else None

    item = await eventually(listed, what="the finished run in the list")
    assert item["node_counts"]["succeeded"] == 1

"""Redriving a failed for_each runs only its items that failed or never ran."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from temporalio.worker import Worker

from app.settings import Settings
from tests.support.api import API, Actor, create_workflow, definition, run_becomes
from tests.support.peer import Peer, Reply, Seen


class Items:
    """The peer's ``/item?i=N`` answers: 503 for the failing items, else ``{"value": N * 10}``."""

    def __init__(self, peer: Peer, failing: set[int], pad: int = 0) -> None:
        self.failing = failing
        self.pad = pad
        self.peer = peer
        peer.route("/item", self)

    def __call__(self, seen: Seen) -> Reply:
        index = int(parse_qs(urlsplit(seen.path).query)["i"][0])
        if index in self.failing:
            return Reply(503, {"down": index})
        return Reply(200, {"value": index * 10, "pad": "x" * self.pad})

    def recover(self) -> None:
        """The peer answers every item again; the requests seen so far are forgotten."""
        self.failing = set()
        self.peer.requests.clear()

    def seen(self) -> Counter[int]:
        """Requests per item index so far."""
        return Counter(
            int(parse_qs(urlsplit(r.path).query)["i"][0])
            for r in self.peer.requests
            if r.path.startswith("/item")
        )


async def _tolerant_breaker(
    http: httpx.AsyncClient, admin: Actor, owner: Actor, peer: Peer
) -> None:
    """The owner's breaker for the peer stays closed however many items fail in a row."""
    configured = await http.put(
        f"{API}/circuit-breakers/{peer.url}/config",
        params={"owner_id": owner.id},
        json={"failure_threshold": 1000},
        headers=admin.headers,
    )
    assert configured.status_code == 200, configured.text


def _loop(
    peer: Peer,
    keep: str = "{{ result.body.value }}",
    output: str = "{{ {'items': nodes.each.output, 'count': nodes.count.output} }}",
) -> dict[str, Any]:
    body = {
        "nodes": [
            {
                "id": "get",
                "type": "http",
                "config": {"method": "GET", "url": f"{peer.url}/item?i={{{{ item }}}}"},
                "retry": {"strategy": "fixed", "max_attempts": 2, "initial_interval": "50ms"},
                "output": keep,
            }
        ],
        "output": "{{ nodes.get.output }}",
    }
    return definition(
        nodes=[
            {"id": "list", "type": "transform", "config": {"value": "{{ input.items }}"}},
            {
                "id": "each",
                "type": "for_each",
                "config": {"items": "nodes.list.output", "max_concurrency": 4, "body": body},
            },
            {
                "id": "count",
                "type": "transform",
                "config": {"value": "{{ size(nodes.each.output) }}"},
            },
        ],
        edges=[{"from": "list", "to": "each"}, {"from": "each", "to": "count"}],
        output=output,
    )


async def _failed_run(
    http: httpx.AsyncClient, actor: Actor, peer: Peer, count: int, **loop: str
) -> tuple[str, dict[str, Any]]:
    workflow = await create_workflow(http, actor, _loop(peer, **loop))
    started = await http.post(
        f"{API}/workflows/{workflow['id']}/runs",
        json={"input": {"items": list(range(count))}},
        headers=actor.headers,
    )
    assert started.status_code == 202, started.text
    run_id: str = started.json()["run_id"]
    failed = await run_becomes(http, actor, run_id, "failed")
    return run_id, failed


def _node(run: dict[str, Any], node_id: str) -> dict[str, Any]:
    node: dict[str, Any] = next(n for n in run["nodes"] if n["id"] == node_id)
    return node


async def test_a_redriven_inline_for_each_runs_only_its_failed_items(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, admin: Actor, peer: Peer
) -> None:
    items = Items(peer, failing={2, 5})
    await _tolerant_breaker(http, admin, editor, peer)
    run_id, failed = await _failed_run(http, editor, peer, 8)
    assert _node(failed, "each")["status"] == "failed"
    # Each failing item was tried twice, the others once.
    assert items.seen() == {i: 2 if i in (2, 5) else 1 for i in range(8)}

    items.recover()
    response = await http.post(
        f"{API}/runs/redrive", json={"run_ids": [run_id]}, headers=editor.headers
    )
    assert response.status_code == 202, response.text
    [redriven] = response.json()["runs"]
    rerun = await run_becomes(http, editor, redriven["run_id"], "succeeded")

    assert items.seen() == {2: 1, 5: 1}
    assert rerun["output"] == {"items": [i * 10 for i in range(8)], "count": 8}
    each = _node(rerun, "each")
    assert (each["reused"], each["progress"]["reused"]) == (False, 6)
    assert _node(rerun, "list")["reused"] is True

    # A rerun that fails at another item is redriven the same way, by retrying the node.
    items.failing = {7}
    peer.requests.clear()
    again = await http.post(f"{API}/runs/{redriven['run_id']}/rerun", headers=editor.headers)
    assert again.status_code == 202, again.text
    await run_becomes(http, editor, again.json()["run_id"], "failed")
    # A plain rerun reuses no items, not even those its run was given.
    assert set(items.seen()) == set(range(8))
    items.recover()
    third = await http.post(
        f"{API}/runs/{again.json()['run_id']}/nodes/each/retry", headers=editor.headers
    )
    assert third.status_code == 202, third.text
    last = await run_becomes(http, editor, third.json()["run_id"], "succeeded")
    assert items.seen() == {7: 1}
    assert last["output"]["items"] == [i * 10 for i in range(8)]


async def test_a_redriven_batched_for_each_runs_only_its_failed_items(
    http: httpx.AsyncClient,
    worker: Worker,
    editor: Actor,
    admin: Actor,
    peer: Peer,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Batches of 2 past 3 items: 10 items run as 5 child runs.
    monkeypatch.setattr(settings.run, "for_each_batch_threshold", 3)
    monkeypatch.setattr(settings.run, "for_each_batch_size", 2)
    items = Items(peer, failing={1, 4, 5, 8})
    await _tolerant_breaker(http, admin, editor, peer)
    run_id, failed = await _failed_run(http, editor, peer, 10)
    error = _node(failed, "each")["error"]
    assert error["details"]["failed"] == [1, 4, 5, 8]

    items.recover()
    response = await http.post(f"{API}/runs/{run_id}/nodes/each/retry", headers=editor.headers)
    assert response.status_code == 202, response.text
    rerun = await run_becomes(http, editor, response.json()["run_id"], "succeeded")

    # Items 0 and 9 succeeded inside batches that failed: those are reused too.
    assert items.seen() == {1: 1, 4: 1, 5: 1, 8: 1}
    assert rerun["output"] == {"items": [i * 10 for i in range(10)], "count": 10}
    assert _node(rerun, "each")["progress"]["reused"] == 6


async def test_item_outputs_too_large_to_carry_run_every_item_again(
    http: httpx.AsyncClient,
    worker: Worker,
    editor: Actor,
    admin: Actor,
    peer: Peer,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items = Items(peer, failing={0}, pad=3000)
    await _tolerant_breaker(http, admin, editor, peer)
    # Each item's output keeps its padding: the five items that succeed hold 15 KB.
    run_id, _ = await _failed_run(
        http, editor, peer, 6, keep="{{ result.body }}", output="{{ nodes.count.output }}"
    )

    # The new run's start input may hold 8 KB: its definition fits, the outputs do not.
    monkeypatch.setattr(settings.run, "max_payload_bytes", 8000)
    items.recover()
    response = await http.post(f"{API}/runs/{run_id}/nodes/each/retry", headers=editor.headers)
    assert response.status_code == 202, response.text
    rerun = await run_becomes(http, editor, response.json()["run_id"], "succeeded")
    assert items.seen() == {i: 1 for i in range(6)}
    assert rerun["output"] == 6
    note = _node(rerun, "each")["progress"]["reuse"]
    assert "FLOWFORGE_RUN_MAX_PAYLOAD_BYTES" in note
    assert "every item runs again" in note


async def test_a_nested_for_each_redrives_by_outer_item_and_one_upstream_is_reused_whole(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, admin: Actor, peer: Peer
) -> None:
    items = Items(peer, failing={3})
    await _tolerant_breaker(http, admin, editor, peer)
    get = {
        "id": "get",
        "type": "http",
        "config": {"method": "GET", "url": f"{peer.url}/item?i={{{{ item }}}}"},
        "retry": {"strategy": "none"},
        "output": "{{ result.body.value }}",
    }
    inner = {
        "id": "inner",
        "type": "for_each",
        "config": {
            "items": "[item * 2, item * 2 + 1]",
            "body": {"nodes": [get], "output": "{{ nodes.get.output }}"},
        },
    }
    workflow = await create_workflow(
        http,
        editor,
        definition(
            nodes=[
                {
                    "id": "pre",
                    "type": "for_each",
                    "config": {
                        "items": "[100, 101]",
                        "body": {"nodes": [get], "output": "{{ nodes.get.output }}"},
                    },
                },
                {
                    "id": "each",
                    "type": "for_each",
                    "config": {
                        "items": "[0, 1, 2, 3]",
                        "body": {"nodes": [inner], "output": "{{ nodes.inner.output }}"},
                    },
                },
            ],
            edges=[{"from": "pre", "to": "each"}],
            output="{{ {'pre': nodes.pre.output, 'each': nodes.each.output} }}",
        ),
    )
    started = await http.post(
        f"{API}/workflows/{workflow['id']}/runs", json={"input": {}}, headers=editor.headers
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    await run_becomes(http, editor, run_id, "failed")

    items.recover()
    response = await http.post(
        f"{API}/runs/redrive", json={"run_ids": [run_id]}, headers=editor.headers
    )
    assert response.status_code == 202, response.text
    rerun = await run_becomes(http, editor, response.json()["runs"][0]["run_id"], "succeeded")
    # Outer item 1 (inner items 2 and 3) runs again whole; `pre` is reused, not run.
    assert items.seen() == {2: 1, 3: 1}
    assert rerun["output"] == {
        "pre": [1000, 1010],
        "each": [[0, 10], [20, 30], [40, 50], [60, 70]],
    }
    assert (_node(rerun, "pre")["reused"], _node(rerun, "each")["progress"]["reused"]) == (True, 3)

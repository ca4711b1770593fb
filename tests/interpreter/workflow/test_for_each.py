"""for_each: inline items, bounded concurrency, failures, and child-workflow batches."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowFailureError

from tests.support.peer import Peer, Reply
from tests.support.workflows import Start, snapshot


def loop(body: dict[str, Any], items: str = "input.items", **config: Any) -> dict[str, Any]:
    return {
        "name": "loop",
        "nodes": [
            {"id": "base", "type": "transform", "config": {"value": 100}},
            {"id": "each", "type": "for_each", "config": {"items": items, "body": body, **config}},
        ],
        "edges": [{"from": "base", "to": "each"}],
        "output": "{{ nodes.each.output }}",
    }


DOUBLE = {
    "nodes": [
        {
            "id": "calc",
            "type": "transform",
            "config": {"value": "{{ item * 2 + index + nodes.base.output }}"},
        },
        {"id": "label", "type": "transform", "config": {"value": "#{{ index }}"}},
    ],
    "edges": [{"from": "calc", "to": "label"}],
    "output": {"value": "{{ nodes.calc.output }}", "label": "{{ nodes.label.output }}"},
}


async def test_inline_items_in_order_see_item_index_and_outer_nodes(start: Start) -> None:
    handle = await start(loop(DOUBLE), {"items": [5, 6, 7]}, activities=[])
    assert await handle.result() == [
        {"value": 110, "label": "#0"},
        {"value": 113, "label": "#1"},
        {"value": 116, "label": "#2"},
    ]
    node = {n.id: n for n in (await snapshot(handle)).nodes}["each"]
    assert node.progress == {"done": 3, "total": 3, "failed": 0}


async def test_http_body_with_bounded_concurrency(start: Start, peer: Peer) -> None:
    peer.route("/profile", lambda seen: Reply(body={"path": seen.path}, delay=0.2))
    body = {
        "nodes": [
            {
                "id": "get",
                "type": "http",
                "config": {"method": "GET", "url": f"{peer.url}/profile?id={{{{ item }}}}"},
            }
        ],
        "output": "{{ nodes.get.output.body.path }}",
    }
    handle = await start(loop(body, max_concurrency=2), {"items": [1, 2, 3, 4, 5]})
    assert await handle.result() == [f"/profile?id={i}" for i in range(1, 6)]
    assert peer.max_in_flight == 2


async def test_failed_items_are_named_and_others_still_run(start: Start) -> None:
    body = {
        "nodes": [{"id": "pick", "type": "transform", "config": {"value": "{{ item.v }}"}}],
        "output": "{{ nodes.pick.output }}",
    }
    handle = await start(loop(body), {"items": [{"v": 1}, {}, {"v": 3}, {}]}, activities=[])
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    message = str(info.value.cause)
    assert "2 of 4 items failed" in message
    assert "indexes 1, 3" in message
    assert "each[1].pick" in message


async def test_fail_fast_stops_remaining_items(start: Start) -> None:
    body = {
        "nodes": [
            {"id": "nap", "type": "wait", "config": {"duration": "{{ item }}"}},
            {"id": "boom", "type": "fail", "when": "index == 0", "config": {"message": "x"}},
        ],
        "edges": [{"from": "nap", "to": "boom"}],
    }
    handle = await start(
        loop(body, fail_fast=True, max_concurrency=3),
        {"items": ["10ms", "1h", "1h", "1h"]},
        activities=[],
    )
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    node = {n.id: n for n in (await snapshot(handle)).nodes}["each"]
    assert node.status == "failed"
    assert node.progress is not None
    assert node.progress["done"] == 3  # the failed item and the two cancelled ones


async def test_items_past_the_threshold_run_in_child_batches(start: Start, client: Any) -> None:
    body = {
        "nodes": [{"id": "sq", "type": "transform", "config": {"value": "{{ item * item }}"}}],
        "output": "{{ nodes.sq.output + nodes.base.output }}",
    }
    handle = await start(
        loop(body, max_concurrency=5),
        {"items": list(range(23))},
        activities=[],
        for_each_batch_threshold=5,
        for_each_batch_size=4,
        for_each_parallel_batches=2,
    )
    assert await handle.result() == [i * i + 100 for i in range(23)]
    children = [w async for w in client.list_workflows(f"WorkflowId STARTS_WITH '{handle.id}/'")]
    assert len(children) == 6
    history = await handle.fetch_history()
    assert len(history.events) < 100


async def test_batched_failures_name_the_global_indexes(start: Start) -> None:
    body = {"nodes": [{"id": "pick", "type": "transform", "config": {"value": "{{ item.v }}"}}]}
    items = [{"v": i} for i in range(10)]
    items[7] = {}
    handle = await start(
        loop(body),
        {"items": items},
        activities=[],
        for_each_batch_threshold=3,
        for_each_batch_size=3,
    )
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert "1 of 10 items failed (indexes 7)" in str(info.value.cause)


async def test_a_heavy_pure_body_is_spread_over_several_workflow_tasks(start: Start) -> None:
    chain = [
        {"id": f"s{i}", "type": "transform", "config": {"value": "{{ item + 1 }}"}}
        for i in range(8)
    ]
    edges = [{"from": f"s{i}", "to": f"s{i + 1}"} for i in range(7)]
    body = {"nodes": chain, "edges": edges, "output": "{{ nodes.s7.output }}"}
    handle = await start(
        loop(body, max_concurrency=50),
        {"items": list(range(120))},
        activities=[],
        for_each_batch_threshold=1000,
        for_each_nodes_per_task=320,
    )
    assert await handle.result() == [i + 1 for i in range(120)]
    history = await handle.fetch_history()
    timers = [e for e in history.events if e.HasField("timer_started_event_attributes")]
    assert len(timers) == 2

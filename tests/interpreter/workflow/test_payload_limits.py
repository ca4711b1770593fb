"""Values a run would hand Temporal over ``max_payload_bytes``, on a real Temporal dev server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from tests.support.peer import Peer, Reply
from tests.support.workflows import Start, snapshot


def _fetch(node_id: str, url: str, **config: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "http",
        "config": {"url": url, **config},
        "output": "{{ result.body.blob }}",
    }


async def test_state_too_large_to_carry_keeps_the_run_in_its_history(
    start: Start, peer: Peer, client: Client
) -> None:
    peer.route("/blob", Reply(body={"blob": "b" * 700_000}))
    ids = ["a", "b", "c", "d"]
    nodes = [_fetch(i, f"{peer.url}/blob", max_response_bytes=1_000_000) for i in ids]
    nodes.append(
        {
            "id": "sum",
            "type": "transform",
            "config": {"value": "{{ [size(nodes.a.output), size(nodes.d.output)] }}"},
        }
    )
    edges = [{"from": x, "to": y} for x, y in zip(ids, [*ids[1:], "sum"], strict=True)]
    handle = await start(
        {
            "name": "carry",
            # Regular activities: each node lengthens the history, which continue-as-new
            # counts (a chain of local ones may finish in a single workflow task).
            "defaults": {"execution": "activity"},
            "nodes": nodes,
            "edges": edges,
            "output": "{{ nodes.sum.output }}",
        },
        continue_as_new_after_events=8,
    )

    # 4 x 700 KB cannot be carried into a new run: the run goes on where it is.
    assert await asyncio.wait_for(handle.result(), 60) == [700_000, 700_000]
    runs = [w async for w in client.list_workflows(f"WorkflowId = '{handle.id}'")]
    statuses = [r.status.name if r.status else "" for r in runs]
    # It continued as new while the state fitted (one or two outputs), then no more.
    assert statuses.count("COMPLETED") == 1
    assert 1 <= statuses.count("CONTINUED_AS_NEW") <= 2
    assert len(peer.hits("/blob")) == 4


async def test_an_activity_input_over_the_limit_fails_its_node_unsent(
    start: Start, peer: Peer
) -> None:
    peer.route("/blob", Reply(body={"blob": "b" * 60_000}))
    handle = await start(
        {
            "name": "input",
            "nodes": [
                _fetch("a", f"{peer.url}/blob"),
                {
                    "id": "post",
                    "type": "http",
                    "config": {
                        "method": "POST",
                        "url": f"{peer.url}/sink",
                        "body": {"x": "{{ nodes.a.output }}", "y": "{{ nodes.a.output }}"},
                    },
                },
            ],
            "edges": [{"from": "a", "to": "post"}],
        },
        max_payload_bytes=100_000,
    )

    with pytest.raises(WorkflowFailureError):
        await handle.result()
    post = next(n for n in (await snapshot(handle)).nodes if n.id == "post")
    assert post.error is not None
    assert post.error.type == "OutputTooLarge"
    assert post.error.message.startswith("node 'post': its input (rendered config and context) is ")
    assert post.error.details["limit"] == 100_000
    assert peer.hits("/sink") == []


async def test_a_batch_whose_outputs_are_over_the_limit_fails_its_items(start: Start) -> None:
    handle = await start(
        {
            "name": "batches",
            "nodes": [
                {
                    "id": "loop",
                    "type": "for_each",
                    "config": {
                        "items": "input",
                        "body": {
                            "nodes": [
                                {
                                    "id": "row",
                                    "type": "transform",
                                    "config": {"value": {"i": "{{ item }}", "pad": "p" * 5_000}},
                                }
                            ]
                        },
                    },
                }
            ],
        },
        list(range(100)),
        activities=[],
        max_payload_bytes=200_000,
        for_each_batch_threshold=10,
        for_each_batch_size=50,
    )

    with pytest.raises(WorkflowFailureError):
        await handle.result()
    loop = (await snapshot(handle)).nodes[0]
    assert loop.error is not None
    assert loop.error.type == "ItemsFailed"
    assert "100 of 100 items failed" in loop.error.message
    assert "node 'loop': the outputs of items 0..49 is " in loop.error.message
    assert "over the 200000-byte limit" in loop.error.message

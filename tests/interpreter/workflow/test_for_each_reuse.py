"""for_each and redrives: a failed run answers its items' outputs, a redrive takes them as given."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle

from interpreter.contract.client import ITEM_OUTPUTS_QUERY
from interpreter.contract.run import ItemOutputs, ItemReuse, ItemsAsked, items_digest
from tests.support.peer import Peer, Reply, Seen
from tests.support.workflows import Start, snapshot


def _loop(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "loop",
        "nodes": [{"id": "each", "type": "for_each", "config": {"items": "input", "body": body}}],
        "output": "{{ nodes.each.output }}",
    }


NESTED = {
    "nodes": [
        {
            "id": "inner",
            "type": "for_each",
            "config": {
                "items": "[item, item + 1]",
                "body": {
                    "nodes": [{"id": "x", "type": "transform", "config": {"value": "{{ item }}"}}],
                    "output": "{{ nodes.x.output }}",
                },
            },
        }
    ],
    "output": "{{ nodes.inner.output }}",
}


def _calls(peer: Peer) -> dict[str, Any]:
    def answer(seen: Seen) -> Reply:
        index = int(parse_qs(urlsplit(seen.path).query)["i"][0])
        return Reply(503) if index % 3 == 1 else Reply(body={"v": index})

    peer.route("/item", answer)
    return {
        "nodes": [
            {
                "id": "get",
                "type": "http",
                "config": {"method": "GET", "url": f"{peer.url}/item?i={{{{ item }}}}"},
                "retry": {"strategy": "none"},
                "output": "{{ result.body.v }}",
            }
        ],
        "output": "{{ nodes.get.output }}",
    }


async def _progress(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    node = {n.id: n for n in (await snapshot(handle)).nodes}["each"]
    assert node.progress is not None
    return node.progress


async def _ask(handle: WorkflowHandle[Any, Any], budget: int = 100_000) -> ItemOutputs:
    answer: ItemOutputs = await handle.query(
        ITEM_OUTPUTS_QUERY, ItemsAsked(node_id="each", budget=budget), result_type=ItemOutputs
    )
    return answer


async def test_given_item_outputs_are_taken_and_nested_loops_run_for_the_rest(
    start: Start,
) -> None:
    items = [10, 20, 30, 40]
    given = ItemReuse(total=4, digest=items_digest(items), outputs={1: ["kept"], 3: ["kept"]})
    handle = await start(_loop(NESTED), items, activities=[], reuse_items={"each": given})
    assert await handle.result() == [[10, 11], ["kept"], [30, 31], ["kept"]]
    assert await _progress(handle) == {"done": 4, "total": 4, "failed": 0, "reused": 2}


async def test_items_that_differ_from_the_redriven_runs_all_run_again(start: Start) -> None:
    given = ItemReuse(total=2, digest=items_digest([1, 2]), outputs={0: ["stale"]})
    handle = await start(_loop(NESTED), [1, 3], activities=[], reuse_items={"each": given})
    assert await handle.result() == [[1, 2], [3, 4]]
    progress = await _progress(handle)
    assert "items differ" in progress["reuse"]
    assert "reused" not in progress


async def test_a_for_each_reused_whole_does_not_run(start: Start) -> None:
    given = ItemReuse(total=1, digest=items_digest([1]), outputs={0: ["item"]})
    handle = await start(
        _loop(NESTED), [1], activities=[], reuse={"each": ["whole"]}, reuse_items={"each": given}
    )
    assert await handle.result() == ["whole"]


async def test_a_failed_inline_for_each_answers_its_succeeded_items(
    start: Start, peer: Peer
) -> None:
    items = list(range(6))
    handle = await start(_loop(_calls(peer)), items)
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    answer = await _ask(handle)
    assert (answer.known, answer.total, answer.digest) == (True, 6, items_digest(items))
    assert answer.outputs == {0: 0, 2: 2, 3: 3, 5: 5}
    assert answer.batches == []
    small = await _ask(handle, budget=5)
    assert (small.too_large, small.outputs, small.size) == (True, {}, answer.size)


async def test_a_failed_batched_for_each_names_the_batches_that_hold_the_rest(
    start: Start, peer: Peer
) -> None:
    items = list(range(6))
    handle = await start(
        _loop(_calls(peer)), items, for_each_batch_threshold=2, for_each_batch_size=3
    )
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    # Both batches (items 0..2 and 3..5) have a failed item: the parent holds none of them.
    answer = await _ask(handle)
    assert (answer.known, answer.outputs) == (True, {})
    assert sorted(answer.batches) == [f"{handle.id}/each/0", f"{handle.id}/each/3"]
    first, second = [await _ask(handle._client.get_workflow_handle(b)) for b in answer.batches]
    assert {**first.outputs, **second.outputs} == {0: 0, 2: 2, 3: 3, 5: 5}


async def test_a_nested_for_each_past_the_threshold_still_runs_in_batches(start: Start) -> None:
    body = {
        "nodes": [
            {
                "id": "inner",
                "type": "for_each",
                "config": {
                    "items": "[item * 10, item * 10 + 1, item * 10 + 2]",
                    "body": {
                        "nodes": [
                            {"id": "x", "type": "transform", "config": {"value": "{{ item }}"}}
                        ],
                        "output": "{{ nodes.x.output }}",
                    },
                },
            }
        ],
        "output": "{{ nodes.inner.output }}",
    }
    given = ItemReuse(total=2, digest=items_digest([0, 1]), outputs={0: ["kept"]})
    handle = await start(
        _loop(body),
        [0, 1],
        activities=[],
        reuse_items={"each": given},
        for_each_batch_threshold=2,
        for_each_batch_size=2,
    )
    assert await handle.result() == [["kept"], [10, 11, 12]]
    # Item 1's inner loop has 3 items, past the threshold: batches of 2, as in any run.
    child = handle._client.get_workflow_handle(f"{handle.id}/each[1].inner/2")
    assert await child.result() == [12]

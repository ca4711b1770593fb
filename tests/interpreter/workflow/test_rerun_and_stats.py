"""What reruns and metrics rely on: full outputs, reused nodes, node stats in the memo."""

from __future__ import annotations

from typing import Any

from interpreter.contract.client import NODE_STATS_MEMO, OUTPUTS_QUERY
from tests.support.peer import Peer, Reply
from tests.support.workflows import Start, snapshot


def definition(url: str) -> dict[str, Any]:
    return {
        "name": "rerun",
        "nodes": [
            {
                "id": "fetch",
                "type": "http",
                "config": {"method": "GET", "url": f"{url}/data"},
                "output": "{{ result.body }}",
            },
            {
                "id": "shape",
                "type": "transform",
                "config": {"value": "{{ nodes.fetch.output.n + 1 }}"},
            },
            {
                "id": "send",
                "type": "http",
                "config": {
                    "method": "POST",
                    "url": f"{url}/send",
                    "body": {"n": "{{ nodes.shape.output }}"},
                },
            },
        ],
        "edges": [{"from": "fetch", "to": "shape"}, {"from": "shape", "to": "send"}],
        "output": "{{ nodes.shape.output }}",
    }


async def test_full_outputs_and_rerun_reusing_upstream(start: Start, peer: Peer) -> None:
    peer.route("/data", Reply(body={"n": 41, "pad": "x" * 40_000}))
    first = await start(definition(peer.url), max_snapshot_output_bytes=1024)
    assert await first.result() == 42
    outputs = await first.query(OUTPUTS_QUERY, ["fetch", "nope"], result_type=dict)
    assert outputs["fetch"]["n"] == 41
    assert len(outputs["fetch"]["pad"]) == 40_000
    assert list(outputs) == ["fetch"]
    truncated = {n.id: n for n in (await snapshot(first)).nodes}["fetch"].output
    assert truncated["truncated"] is True

    peer.route("/data", Reply(body={"n": 0}))
    again = await start(definition(peer.url), reuse={"fetch": outputs["fetch"]})
    assert await again.result() == 42
    assert len(peer.hits("/data")) == 1
    assert len(peer.hits("/send")) == 2
    fetch = {n.id: n for n in (await snapshot(again)).nodes}["fetch"]
    assert fetch.reused
    assert fetch.status == "succeeded"
    assert fetch.attempts == 0


async def test_finished_run_leaves_node_stats_in_its_memo(start: Start, peer: Peer) -> None:
    peer.script("/data", [Reply(503), Reply(200, {"n": 1})])
    spec = definition(peer.url)
    spec["nodes"][0]["retry"] = {"initial_interval": "100ms"}
    handle = await start(spec)
    await handle.result()
    memo = await (await handle.describe()).memo_value(NODE_STATS_MEMO)
    assert memo["fetch"]["s"] == "succeeded"
    assert memo["fetch"]["a"] == 2
    assert memo["send"]["s"] == "succeeded"
    assert memo["send"]["ms"] >= 0

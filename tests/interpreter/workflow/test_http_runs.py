"""Runs with http nodes against real local servers: concurrency, retries, timeouts, control."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError

from interpreter.contract.client import PAUSE_SIGNAL, RESUME_SIGNAL
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply
from tests.support.workflows import Start, node_is, snapshot


def call(node_id: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "http", "config": {"method": "GET", "url": url}, **extra}


def gaps(peer: Peer, path: str) -> list[float]:
    times = [seen.at for seen in peer.hits(path)]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


async def test_max_concurrency_bounds_parallel_requests(start: Start, peer: Peer) -> None:
    peer.route("/slow", Reply(body={"ok": True}, delay=0.3))
    definition = {
        "name": "fan",
        "max_concurrency": 3,
        "nodes": [call(f"n{i}", f"{peer.url}/slow") for i in range(9)],
    }
    handle = await start(definition)
    result = await handle.result()
    assert len(result) == 9
    assert all(out["status"] == 200 for out in result.values())
    assert peer.max_in_flight == 3


async def test_http_output_and_chaining(start: Start, peer: Peer) -> None:
    peer.route("/lead", Reply(body={"score": 91, "country": "US"}))
    peer.route("/notify", lambda seen: Reply(body={"got": seen.json()}))
    definition = {
        "name": "chain",
        "nodes": [
            call("lead", f"{peer.url}/lead", output="{{ result.body }}"),
            {
                "id": "notify",
                "type": "http",
                "config": {
                    "method": "POST",
                    "url": f"{peer.url}/notify",
                    "body": {"score": "{{ nodes.lead.output.score }}"},
                },
            },
        ],
        "edges": [{"from": "lead", "to": "notify", "when": "nodes.lead.output.score > 80"}],
        "output": "{{ nodes.notify.output.body.got }}",
    }
    handle = await start(definition)
    assert await handle.result() == {"score": 91}


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        (
            {"strategy": "exponential", "initial_interval": "200ms", "backoff_coefficient": 2},
            [0.2, 0.4],
        ),
        ({"strategy": "fixed", "initial_interval": "300ms"}, [0.3, 0.3]),
        ({"strategy": "linear", "initial_interval": "250ms"}, [0.25, 0.5]),
    ],
)
async def test_retry_count_and_spacing(
    start: Start, peer: Peer, retry: dict[str, Any], expected: list[float]
) -> None:
    peer.script("/flaky", [Reply(503), Reply(503), Reply(200, {"ok": 1})])
    definition = {
        "name": "retry",
        "nodes": [call("get", f"{peer.url}/flaky", retry={**retry, "max_attempts": 3})],
    }
    handle = await start(definition)
    await handle.result()
    assert len(peer.hits("/flaky")) == 3
    for gap, want in zip(gaps(peer, "/flaky"), expected, strict=True):
        assert want * 0.9 <= gap < want + 1.5, (gap, want)
    node = (await snapshot(handle)).nodes[0]
    assert node.attempts == 3
    assert node.status == "succeeded"


async def test_retry_after_is_honoured(start: Start, peer: Peer) -> None:
    peer.script("/limited", [Reply(429, headers={"Retry-After": "1"}), Reply(200)])
    definition = {
        "name": "ra",
        "nodes": [call("get", f"{peer.url}/limited", retry={"initial_interval": "100ms"})],
    }
    handle = await start(definition)
    await handle.result()
    (gap,) = gaps(peer, "/limited")
    assert gap >= 0.95


async def test_client_error_is_not_retried(start: Start, peer: Peer) -> None:
    peer.route("/bad", Reply(400, {"error": "missing field foo"}))
    definition = {
        "name": "400",
        "nodes": [call("get", f"{peer.url}/bad", retry={"initial_interval": "100ms"})],
    }
    handle = await start(definition)
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert len(peer.hits("/bad")) == 1
    message = str(info.value.cause)
    assert "node 'get'" in message
    assert "400" in message
    assert "missing field foo" in message
    node = (await snapshot(handle)).nodes[0]
    assert node.error is not None
    assert node.error.type == "HttpStatusError"
    assert node.attempts == 1


async def test_server_error_exhausts_attempts(start: Start, peer: Peer) -> None:
    peer.route("/down", Reply(503))
    definition = {
        "name": "503",
        "nodes": [
            call("get", f"{peer.url}/down", retry={"initial_interval": "100ms", "max_attempts": 4})
        ],
    }
    handle = await start(definition)
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert len(peer.hits("/down")) == 4
    assert (await snapshot(handle)).nodes[0].attempts == 4


async def test_attempt_timeout_then_retry(start: Start, peer: Peer) -> None:
    peer.script("/sluggish", [Reply(200, delay=3), Reply(200, {"fast": True})])
    definition = {
        "name": "timeout",
        "nodes": [
            call("get", f"{peer.url}/sluggish", timeout="1s", retry={"initial_interval": "100ms"})
        ],
        "output": "{{ nodes.get.output.body }}",
    }
    handle = await start(definition)
    assert await handle.result() == {"fast": True}
    assert len(peer.hits("/sluggish")) == 2


async def test_total_timeout_stops_retrying(start: Start, peer: Peer) -> None:
    peer.route("/down", Reply(503))
    definition = {
        "name": "total",
        "nodes": [
            call(
                "get",
                f"{peer.url}/down",
                timeout="1s",
                total_timeout="2s",
                retry={"strategy": "fixed", "initial_interval": "300ms", "max_attempts": 50},
            )
        ],
    }
    handle = await start(definition)
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert 2 <= len(peer.hits("/down")) <= 8


async def test_idempotency_key_is_stable_across_retries(start: Start, peer: Peer) -> None:
    peer.script("/charge", [Reply(503), Reply(200)])
    definition = {
        "name": "idem",
        "nodes": [
            call(
                "charge",
                f"{peer.url}/charge",
                idempotency=True,
                retry={"initial_interval": "100ms"},
            )
        ],
    }
    handle = await start(definition)
    await handle.result()
    keys = {seen.headers.get("idempotency-key") for seen in peer.hits("/charge")}
    assert len(keys) == 1
    assert None not in keys


async def test_pause_mid_run_lets_running_call_finish(start: Start, peer: Peer) -> None:
    peer.route("/one", Reply(body={"n": 1}, delay=1.0))
    peer.route("/two", Reply(body={"n": 2}))
    definition = {
        "name": "pause",
        # A signal reaching a workflow task that waits on a local activity makes Temporal
        # redo that task, local attempt included (docs/RUNS.md): only a regular activity
        # is sure to finish the attempt the pause found running.
        "defaults": {"execution": "activity"},
        "nodes": [call("one", f"{peer.url}/one"), call("two", f"{peer.url}/two")],
        "edges": [{"from": "one", "to": "two"}],
    }
    handle = await start(definition)
    await eventually(lambda: _has_hits(peer, "/one"))
    await handle.signal(PAUSE_SIGNAL)
    await eventually(lambda: node_is(handle, "one", "succeeded"))
    await asyncio.sleep(0.5)  # a window in which `two` would have started if not paused
    assert peer.hits("/two") == []
    await handle.signal(RESUME_SIGNAL)
    await handle.result()
    assert len(peer.hits("/two")) == 1


async def test_cancel_reaches_a_running_activity(start: Start, peer: Peer) -> None:
    peer.route("/hang", Reply(delay=20))
    definition = {"name": "cancel", "nodes": [call("hang", f"{peer.url}/hang", timeout="60s")]}
    handle = await start(definition)
    await eventually(lambda: _has_hits(peer, "/hang"))
    loop = asyncio.get_running_loop()
    began = loop.time()
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert loop.time() - began < 10
    final = await snapshot(handle)
    assert final.status == "cancelled"
    assert final.nodes[0].status == "cancelled"


async def _has_hits(peer: Peer, path: str) -> bool:
    return bool(peer.hits(path))


async def test_log_and_validate_nodes_in_a_run(start: Start) -> None:
    definition = {
        "name": "lv",
        "nodes": [
            {
                "id": "check",
                "type": "validate",
                "config": {
                    "data": "{{ input }}",
                    "schema": {"type": "object", "required": ["amount"]},
                    "rules": [
                        {"expr": "data.amount <= 100", "message": "amount over the limit"},
                        {"expr": "input.amount > 0", "message": "amount must be positive"},
                    ],
                },
            },
            {"id": "say", "type": "echo", "config": {"message": "amount {{ input.amount }}"}},
        ],
        "edges": [{"from": "check", "to": "say"}],
        "output": "{{ nodes.say.output.message }}",
    }
    handle = await start(definition, {"amount": 5})
    assert await handle.result() == "amount 5"
    handle = await start(definition, {"amount": 500})
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert "amount over the limit" in str(info.value.cause)
    node = (await snapshot(handle)).nodes[0]
    assert node.error is not None
    assert node.error.type == "ValidationFailed"
    assert node.attempts == 1


async def test_egress_guard_refuses_unlisted_loopback(start: Start, peer: Peer) -> None:
    # 127.0.0.2 is loopback but not in the tests' allow-list (127.0.0.1/32).
    definition = {"name": "ssrf", "nodes": [call("get", f"http://127.0.0.2:{peer.port}/x")]}
    handle = await start(definition)
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert "loopback" in str(info.value.cause)
    node = (await snapshot(handle)).nodes[0]
    assert node.error is not None
    assert node.error.type == "EgressDenied"
    assert node.attempts == 1
    assert peer.requests == []

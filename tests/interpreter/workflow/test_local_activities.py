"""Which activity nodes run as local activities, and that they keep a regular activity's
guarantees: retries by policy on durable timers, a status that shows them, stable keys."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowHandle

from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply
from tests.support.workflows import Start, snapshot


def call(node_id: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "http", "config": {"method": "GET", "url": url}, **extra}


async def events(handle: WorkflowHandle[Any, Any]) -> list[Any]:
    return [event async for event in handle.fetch_history_events()]


async def kinds(handle: WorkflowHandle[Any, Any]) -> dict[str, int]:
    """How many regular activities, local-activity markers and timers the run's history holds."""
    found = {"activities": 0, "markers": 0, "timers": 0}
    for event in await events(handle):
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            found["activities"] += 1
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            if event.marker_recorded_event_attributes.marker_name == "core_local_activity":
                found["markers"] += 1
        elif event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            found["timers"] += 1
    return found


async def test_short_nodes_run_as_local_activities(start: Start, peer: Peer) -> None:
    peer.route("/ok", Reply(body={"ok": True}))
    definition = {
        "name": "local",
        "nodes": [
            call("get", f"{peer.url}/ok"),
            {
                "id": "note",
                "type": "log",
                "config": {"message": "got {{ nodes.get.output.status }}"},
            },
            {
                "id": "check",
                "type": "validate",
                "config": {"data": "{{ nodes.get.output.body }}", "schema": {"type": "object"}},
            },
            {"id": "tell", "type": "webhook", "config": {"url": f"{peer.url}/ok", "payload": {}}},
        ],
        "edges": [{"from": "get", "to": "note"}, {"from": "get", "to": "check"}],
    }
    handle = await start(definition)
    await handle.result()
    assert await kinds(handle) == {"activities": 0, "markers": 4, "timers": 0}
    nodes = {node.id: node for node in (await snapshot(handle)).nodes}
    assert {node.status.value for node in nodes.values()} == {"succeeded"}
    assert {node.attempts for node in nodes.values()} == {1}


@pytest.mark.parametrize(
    ("where", "extra", "definition_extra"),
    [
        ("the node asks for it", {"execution": "activity"}, {}),
        ("the definition asks for it", {}, {"defaults": {"execution": "activity"}}),
        ("the node routes to a task queue", {"task_queue": "__own__"}, {}),
        ("one attempt may outlast the limit", {"timeout": "31s"}, {}),
    ],
)
async def test_regular_activity_when(
    start: Start,
    peer: Peer,
    task_queue: str,
    where: str,
    extra: dict[str, Any],
    definition_extra: dict[str, Any],
) -> None:
    peer.route("/ok", Reply(body={"ok": True}))
    if extra.get("task_queue") == "__own__":
        extra = {"task_queue": task_queue}  # the test's worker polls it
    definition = {"name": "regular", "nodes": [call("get", f"{peer.url}/ok", **extra)]}
    handle = await start({**definition, **definition_extra})
    await handle.result()
    assert await kinds(handle) == {"activities": 1, "markers": 0, "timers": 0}, where


async def test_a_limit_of_zero_runs_every_node_as_a_regular_activity(
    start: Start, peer: Peer
) -> None:
    peer.route("/ok", Reply(body={"ok": True}))
    handle = await start(
        {"name": "off", "nodes": [call("get", f"{peer.url}/ok")]}, local_activity_max_seconds=0
    )
    await handle.result()
    assert await kinds(handle) == {"activities": 1, "markers": 0, "timers": 0}


async def test_a_retrying_local_node_shows_retrying_and_waits_on_a_timer(
    start: Start, peer: Peer
) -> None:
    peer.script("/flaky", [Reply(503, {"busy": 1}), Reply(503), Reply(200, {"ok": 1})])
    definition = {
        "name": "retry",
        "nodes": [
            call(
                "get",
                f"{peer.url}/flaky",
                idempotency=True,
                retry={"initial_interval": "2s", "backoff_coefficient": 1.0},
            )
        ],
    }
    handle = await start(definition)
    await eventually(lambda: _retrying(handle), within=30, what="the node to show retrying")
    node = (await snapshot(handle)).nodes[0]
    assert node.attempts == 1
    assert node.last_error is not None
    assert node.last_error.type == "HttpStatusError"
    assert "503" in node.last_error.message
    assert node.next_attempt_at is not None
    await handle.result()
    node = (await snapshot(handle)).nodes[0]
    assert (node.status.value, node.attempts) == ("succeeded", 3)
    assert node.last_error is None
    assert node.next_attempt_at is None
    hits = peer.hits("/flaky")
    assert len(hits) == 3
    assert len({seen.headers.get("idempotency-key") for seen in hits}) == 1
    assert all(later.at - earlier.at >= 1.9 for earlier, later in itertools.pairwise(hits))
    assert await kinds(handle) == {"activities": 0, "markers": 3, "timers": 2}


async def test_the_last_local_attempts_error_says_why_it_was_the_last(
    start: Start, peer: Peer
) -> None:
    peer.route("/slow", Reply(200, delay=3))
    definition = {
        "name": "timeouts",
        "nodes": [
            call(
                "get",
                f"{peer.url}/slow",
                timeout="500ms",
                retry={"initial_interval": "100ms", "max_attempts": 2},
            )
        ],
    }
    handle = await start(definition)
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    node = (await snapshot(handle)).nodes[0]
    assert node.attempts == 2
    assert node.error is not None
    assert node.error.type == "Timeout"
    assert "took longer than its timeout (0.5s)" in node.error.message
    assert "that was its last attempt (retry.max_attempts: 2)" in node.error.message


async def test_cancel_reaches_a_running_local_activity(start: Start, peer: Peer) -> None:
    peer.route("/hang", Reply(delay=20))
    handle = await start({"name": "cancel", "nodes": [call("hang", f"{peer.url}/hang")]})
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
    assert await kinds(handle) == {"activities": 0, "markers": 1, "timers": 0}


async def _retrying(handle: WorkflowHandle[Any, Any]) -> bool:
    return (await snapshot(handle)).nodes[0].status.value == "retrying"


async def _has_hits(peer: Peer, path: str) -> bool:
    return bool(peer.hits(path))

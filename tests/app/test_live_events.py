"""Every run's events for the caller: SSE and WebSocket clients of a real uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio.worker import Worker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.main import create_app
from app.runs.live import EventHub
from app.settings import Settings
from tests.app.test_run_progress import retrying
from tests.support.api import (
    API,
    Actor,
    definition,
    run_becomes,
    run_of,
    served_by_uvicorn,
    waiting_definition,
)
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply


@pytest.fixture(scope="module")
def live_app(settings: Settings) -> FastAPI:
    quick = settings.model_copy(update={"events_poll_interval": 0.2, "run_events_max_seconds": 60})
    return create_app(quick)


@pytest.fixture(scope="module")
def live_url(live_app: FastAPI) -> Iterator[str]:
    with served_by_uvicorn(live_app) as url:
        yield url


def _hub(app: FastAPI) -> EventHub:
    hub: EventHub = app.state.flowforge_events
    return hub


def _token(actor: Actor) -> str:
    return actor.headers["Authorization"].removeprefix("Bearer ")


@contextlib.asynccontextmanager
async def sse(url: str, actor: Actor, **params: Any) -> AsyncIterator[list[dict[str, Any]]]:
    """The events of ``GET /events/stream`` as they arrive, read by a real streaming client."""
    seen: list[dict[str, Any]] = []

    async def read() -> None:
        async with (
            httpx.AsyncClient(base_url=url, timeout=30, trust_env=False) as client,
            client.stream(
                "GET", f"{API}/events/stream", headers=actor.headers, params=params
            ) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                if not line:
                    if "data" in fields:
                        seen.append(
                            {
                                "id": int(fields["id"]),
                                "event": fields["event"],
                                "data": json.loads(fields["data"]),
                            }
                        )
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")

    task = asyncio.create_task(read())
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _run_status(events: list[dict[str, Any]], run_id: str) -> str | None:
    runs = [e["data"] for e in events if e["event"] == "run" and e["data"]["run_id"] == run_id]
    return runs[-1]["status"] if runs else None


async def _listening(app: FastAPI, count: int) -> None:
    """Until ``count`` clients are subscribed and the poller took its baseline after them."""
    hub = _hub(app)
    await eventually(lambda: len(list(hub.subscribers)) >= count, what="clients subscribed")
    rounds = hub.rounds
    await eventually(lambda: hub.rounds >= rounds + 2, what="the poller's baseline")


async def test_each_caller_streams_the_events_of_runs_they_may_see(
    http: httpx.AsyncClient,
    worker: Worker,
    live_app: FastAPI,
    live_url: str,
    editor: Actor,
    other_editor: Actor,
    admin: Actor,
) -> None:
    async with (
        sse(live_url, editor) as mine,
        sse(live_url, other_editor) as theirs,
        sse(live_url, admin) as everyone,
    ):
        await _listening(live_app, 3)
        run_id = await run_of(http, editor, waiting_definition("1s"))
        other = await run_of(http, other_editor, waiting_definition())
        await run_becomes(http, editor, run_id, "succeeded")
        await eventually(lambda: _run_status(mine, run_id) == "succeeded", what="mine ended")
        await eventually(lambda: _run_status(everyone, other) == "running", what="admin sees")
        await eventually(lambda: _run_status(theirs, other) == "running", what="theirs starts")

    assert {e["data"]["run_id"] for e in mine} == {run_id}
    assert run_id not in {e["data"]["run_id"] for e in theirs}
    ids = [e["id"] for e in mine]
    assert ids == sorted(set(ids))
    final = [e["data"] for e in mine if e["event"] == "run"][-1]
    assert final["node_counts"]["succeeded"] == 2
    assert (final["trigger"], final["owner_id"], final["suspended_on"]) == ("api", editor.id, None)
    nodes = [e["data"] for e in mine if e["event"] == "node"]
    assert all(node["run_id"] == run_id for node in nodes)
    hold = [node["status"] for node in nodes if node["node_id"] == "hold"]
    assert hold == ["waiting", "succeeded"]
    assert [(n["node_id"], n["status"]) for n in nodes][-1] == ("after", "succeeded")
    await http.post(f"{API}/runs/{other}/cancel", headers=other_editor.headers)


async def test_a_node_between_attempts_is_streamed_as_retrying(
    http: httpx.AsyncClient,
    worker: Worker,
    live_app: FastAPI,
    live_url: str,
    editor: Actor,
    peer: Peer,
) -> None:
    peer.route("/flaky", Reply(503, {"error": "busy"}))
    async with sse(live_url, editor) as seen:
        await _listening(live_app, 1)
        run_id = await run_of(http, editor, retrying(peer.url))

        def retried() -> dict[str, Any] | None:
            found = [
                e["data"]
                for e in seen
                if e["event"] == "node" and e["data"]["status"] == "retrying"
            ]
            return found[0] if found else None

        node = await eventually(retried, what="a retrying node event")
        peer.route("/flaky", Reply(200, {"ok": True}))
        await eventually(lambda: _run_status(seen, run_id) == "succeeded", what="the end")
    assert (node["run_id"], node["node_id"], node["attempts"]) == (run_id, "fetch", 1)
    assert node["last_error"]["type"] == "HttpStatusError"
    assert node["next_attempt_at"]
    fetch = [e["data"] for e in seen if e["event"] == "node" and e["data"]["node_id"] == "fetch"]
    assert (fetch[-1]["status"], fetch[-1]["attempts"]) == ("succeeded", 2)


async def test_a_client_that_reconnects_gets_what_it_missed(
    http: httpx.AsyncClient, worker: Worker, live_app: FastAPI, live_url: str, editor: Actor
) -> None:
    async with sse(live_url, editor) as first:
        await _listening(live_app, 1)
        run_id = await run_of(http, editor, definition())
        await eventually(lambda: _run_status(first, run_id) == "succeeded", what="the end")
    middle = first[0]["id"]
    resuming = dataclasses.replace(editor, headers={**editor.headers, "Last-Event-ID": str(middle)})
    async with sse(live_url, resuming) as again:
        await eventually(lambda: len(again) >= len(first) - 1, what="the replay")
    assert [e["id"] for e in again][: len(first) - 1] == [e["id"] for e in first[1:]]


async def _messages_until(
    ws: ClientConnection, done: Any, limit: float = 20
) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(limit):
        while not done(seen):
            seen.append(json.loads(await ws.recv()))
    return seen


def _ended(run_id: str) -> Any:
    def check(seen: list[dict[str, Any]]) -> bool:
        return any(
            m["type"] == "run"
            and m["data"]["run_id"] == run_id
            and m["data"]["status"] == "succeeded"
            for m in seen
        )

    return check


@pytest.mark.parametrize("how", ["first message", "subprotocol"])
async def test_the_websocket_sends_the_same_events_after_a_token_outside_the_url(
    http: httpx.AsyncClient,
    worker: Worker,
    live_app: FastAPI,
    live_url: str,
    editor: Actor,
    how: str,
) -> None:
    ws_url = live_url.replace("http://", "ws://") + f"{API}/ws"
    protocols = ["flowforge.v1"]
    if how == "subprotocol":
        protocols.append(f"bearer.{_token(editor)}")
    async with connect(ws_url, subprotocols=protocols) as ws:  # type: ignore[arg-type]
        assert ws.subprotocol == "flowforge.v1"
        if how == "first message":
            await ws.send(json.dumps({"token": _token(editor)}))
        ready = json.loads(await ws.recv())
        assert ready == {"type": "ready", "user_id": editor.id}
        await _listening(live_app, 1)
        run_id = await run_of(http, editor, waiting_definition("1s"))
        seen = await _messages_until(ws, _ended(run_id))
    events = [m for m in seen if m["type"] in ("run", "node")]
    assert {m["data"]["run_id"] for m in events} == {run_id}
    assert any(m["type"] == "node" and m["data"]["status"] == "succeeded" for m in events)


@pytest.mark.parametrize(
    ("first", "code"),
    [
        (json.dumps({"token": "not-a-token"}), 4401),
        ("hello", 4400),
        (json.dumps({"nothing": 1}), 4400),
    ],
)
async def test_the_websocket_refuses_bad_credentials(live_url: str, first: str, code: int) -> None:
    ws_url = live_url.replace("http://", "ws://") + f"{API}/ws"
    async with connect(ws_url) as ws:
        await ws.send(first)
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code


async def test_the_stream_needs_a_credential(live_url: str) -> None:
    async with httpx.AsyncClient(base_url=live_url, trust_env=False) as client:
        response = await client.get(f"{API}/events/stream")
    assert response.status_code == 401

"""One node of a run in detail, with every delivery attempt a webhook node made."""

from __future__ import annotations

import socket
from datetime import datetime

import httpx
import pytest
from pydantic import ValidationError
from temporalio.worker import Worker

from tests.support.api import API, Actor, definition, run_becomes, run_of
from tests.support.peer import Peer, Reply
from worker.database import database_pool
from worker.settings import WorkerSettings


async def node(http: httpx.AsyncClient, actor: Actor, run_id: str, node_id: str) -> httpx.Response:
    return await http.get(f"{API}/runs/{run_id}/nodes/{node_id}", headers=actor.headers)


async def test_a_node_in_detail(http: httpx.AsyncClient, worker: Worker, editor: Actor) -> None:
    run_id = await run_of(http, editor, definition())
    await run_becomes(http, editor, run_id, "succeeded")
    response = await node(http, editor, run_id, "greet")
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["id"] == "greet"
    assert detail["type"] == "transform"
    assert (detail["status"], detail["attempts"], detail["output"]) == ("succeeded", 1, "hello")
    assert detail["started_at"]
    assert detail["ended_at"]
    assert detail["error"] is None
    assert detail["deliveries"] is None  # only webhook nodes have deliveries

    unknown = await node(http, editor, run_id, "nobody")
    assert unknown.status_code == 404
    assert "nobody" in unknown.json()["detail"]


async def test_every_webhook_delivery_attempt_is_listed(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    peer.script("/hook", [Reply(503), Reply(200)])
    body = definition(
        nodes=[
            {
                "id": "notify",
                "type": "webhook",
                "retry": {"strategy": "fixed", "initial_interval": "100ms", "max_attempts": 3},
                "config": {"url": f"{peer.url}/hook?token=hidden", "payload": {"order": 42}},
            }
        ],
        output="{{ nodes.notify.output }}",
    )
    run_id = await run_of(http, editor, body)
    run = await run_becomes(http, editor, run_id, "succeeded")
    delivery_id = run["output"]["delivery_id"]

    response = await node(http, editor, run_id, "notify")
    assert response.status_code == 200, response.text
    detail = response.json()
    assert (detail["status"], detail["attempts"]) == ("succeeded", 2)
    first, second = detail["deliveries"]
    assert [first["attempt"], second["attempt"]] == [1, 2]
    assert (first["status"], first["error_type"]) == (503, "HttpStatusError")
    assert "503" in first["error"]
    assert (second["status"], second["error_type"], second["error"]) == (200, None, None)
    for attempt in (first, second):
        assert attempt["delivery_id"] == delivery_id
        assert attempt["node_path"] == "notify"
        # Query strings may hold secrets: they are not recorded.
        assert attempt["url"] == f"{peer.url}/hook"
        assert attempt["latency_ms"] >= 0
    assert datetime.fromisoformat(first["at"]) < datetime.fromisoformat(second["at"])
    seen = peer.hits("/hook")
    assert [hit.headers["x-delivery-id"] for hit in seen] == [delivery_id, delivery_id]


async def test_who_may_read_a_node(
    http: httpx.AsyncClient,
    worker: Worker,
    editor: Actor,
    other_editor: Actor,
    viewer: Actor,
    admin: Actor,
) -> None:
    run_id = await run_of(http, editor, definition())
    await run_becomes(http, editor, run_id, "succeeded")
    assert (await node(http, other_editor, run_id, "greet")).status_code == 404
    assert (await node(http, viewer, run_id, "greet")).status_code == 404
    assert (await node(http, editor, "run-nobody", "greet")).status_code == 404
    assert (await node(http, admin, run_id, "greet")).status_code == 200


def test_the_worker_takes_either_form_of_database_url() -> None:
    plain = "postgresql://flowforge@127.0.0.1:5432/flowforge"
    for given in (plain, "postgresql+asyncpg://flowforge@127.0.0.1:5432/flowforge"):
        assert WorkerSettings(DATABASE_URL=given).database_url == plain
    assert WorkerSettings(DATABASE_URL="").database_url == ""
    with pytest.raises(ValidationError, match="DATABASE_URL must be a PostgreSQL URL"):
        WorkerSettings(DATABASE_URL="mysql://127.0.0.1/flowforge")


async def test_an_unreachable_delivery_database_stops_the_worker_at_start() -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = WorkerSettings(DATABASE_URL=f"postgresql://flowforge@127.0.0.1:{port}/flowforge")
    with pytest.raises(RuntimeError, match="check DATABASE_URL"):
        async with database_pool(settings):
            pass
    async with database_pool(WorkerSettings(DATABASE_URL="")) as nothing:
        assert nothing is None

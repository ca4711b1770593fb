"""Secrets: write-only values per owner, sealed at rest, read by http nodes only in the worker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from app.settings import Settings
from interpreter.secret_box import KEY_FILE, SecretBox, parse_key
from tests.support.api import API, Actor, definition, run_becomes, run_of
from tests.support.peer import Peer, Reply, Seen
from tests.support.temporal import decoded_history, with_converter
from worker.database import database_pool, stores
from worker.runtime import create_worker, http_client, node_activities
from worker.settings import WorkerSettings


def secret_value() -> str:
    return f"tok-{uuid.uuid4().hex}"


async def put(
    http: httpx.AsyncClient, actor: Actor, name: str, value: str, **params: str
) -> httpx.Response:
    return await http.post(
        f"{API}/secrets", json={"name": name, "value": value}, headers=actor.headers, params=params
    )


async def names(http: httpx.AsyncClient, actor: Actor, **params: str) -> list[str]:
    response = await http.get(f"{API}/secrets", headers=actor.headers, params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_a_value_is_write_only_and_a_second_store_replaces_it(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    first, second = secret_value(), secret_value()

    created = await put(http, editor, "crm_token", first)
    replaced = await put(http, editor, "crm_token", second)

    assert created.status_code == 201, created.text
    assert set(created.json()) == {"name", "created_at", "updated_at"}
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["created_at"] == created.json()["created_at"]
    assert replaced.json()["updated_at"] > created.json()["updated_at"]
    listing = await http.get(f"{API}/secrets", headers=editor.headers)
    assert [item["name"] for item in listing.json()["items"]] == ["crm_token"]
    for response in (created, replaced, listing):
        assert first not in response.text
        assert second not in response.text


async def test_names_are_paginated_newest_first(http: httpx.AsyncClient, editor: Actor) -> None:
    for name in ("a1", "a2", "a3"):
        assert (await put(http, editor, name, "v")).status_code == 201

    first = (await http.get(f"{API}/secrets?limit=2", headers=editor.headers)).json()
    page = {"limit": 2, "cursor": first["next_cursor"]}
    rest = await http.get(f"{API}/secrets", params=page, headers=editor.headers)

    assert [item["name"] for item in first["items"]] == ["a3", "a2"]
    assert [item["name"] for item in rest.json()["items"]] == ["a1"]
    assert rest.json()["next_cursor"] is None


async def test_delete_then_delete_again_is_404(http: httpx.AsyncClient, editor: Actor) -> None:
    await put(http, editor, "gone", "v")

    assert (await http.delete(f"{API}/secrets/gone", headers=editor.headers)).status_code == 204
    again = await http.delete(f"{API}/secrets/gone", headers=editor.headers)

    assert again.status_code == 404
    assert "'gone'" in again.json()["detail"]
    assert await names(http, editor) == []


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": "has-dash", "value": "v"}, "/body/name"),
        ({"name": "1starts_with_digit", "value": "v"}, "/body/name"),
        ({"name": "x" * 101, "value": "v"}, "/body/name"),
        ({"name": "ok", "value": ""}, "/body/value"),
        ({"name": "ok"}, "/body/value"),
    ],
)
async def test_names_must_be_identifiers_and_values_non_empty(
    http: httpx.AsyncClient, editor: Actor, body: dict[str, Any], path: str
) -> None:
    response = await http.post(f"{API}/secrets", json=body, headers=editor.headers)

    assert response.status_code == 422
    assert [error["path"] for error in response.json()["errors"]] == [path]


async def test_viewers_read_names_but_may_not_write(http: httpx.AsyncClient, viewer: Actor) -> None:
    stored = await put(http, viewer, "mine", "v")
    deleted = await http.delete(f"{API}/secrets/mine", headers=viewer.headers)

    assert (stored.status_code, deleted.status_code) == (403, 403)
    assert "editor or admin" in stored.json()["detail"]
    assert await names(http, viewer) == []


async def test_secrets_are_per_owner_and_others_get_404(
    http: httpx.AsyncClient, editor: Actor, other_editor: Actor, admin: Actor
) -> None:
    await put(http, editor, "shared_name", "editor's")
    await put(http, other_editor, "shared_name", "other's")

    assert await names(http, other_editor) == ["shared_name"]
    peeked = await http.get(
        f"{API}/secrets", params={"owner_id": editor.id}, headers=other_editor.headers
    )
    deleted = await http.delete(
        f"{API}/secrets/shared_name", params={"owner_id": editor.id}, headers=other_editor.headers
    )
    assert (peeked.status_code, deleted.status_code) == (404, 404)

    # An admin reaches anyone's secrets, and only existing users'.
    assert await names(http, admin, owner_id=editor.id) == ["shared_name"]
    assert (await put(http, admin, "from_admin", "v", owner_id=editor.id)).status_code == 201
    assert await names(http, editor) == ["from_admin", "shared_name"]
    nobody = await http.get(
        f"{API}/secrets", params={"owner_id": str(uuid.uuid4())}, headers=admin.headers
    )
    assert nobody.status_code == 404
    assert await names(http, other_editor) == ["shared_name"]


async def test_values_are_sealed_at_rest_with_the_shared_key(
    http: httpx.AsyncClient, editor: Actor, settings: Settings
) -> None:
    value = secret_value()
    await put(http, editor, "at_rest", value)

    connection = await asyncpg.connect(settings.database_url.replace("+asyncpg", ""))
    try:
        stored = await connection.fetchval(
            "SELECT ciphertext FROM secrets WHERE owner_id = $1 AND name = 'at_rest'",
            uuid.UUID(editor.id),
        )
    finally:
        await connection.close()

    assert value.encode() not in stored
    key_file = Path(settings.data_dir) / KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert SecretBox(parse_key(key_file.read_text())).open(editor.id, "at_rest", stored) == value


@pytest.fixture
async def secrets_worker(
    settings: Settings, temporal_client: Client, task_queue: str
) -> AsyncIterator[str]:
    """A worker as ``python -m worker`` builds it (secrets from the session's database,
    the API's data_dir key) running http nodes routed to ``task_queue``."""
    worker_settings = WorkerSettings(
        DATABASE_URL=settings.database_url,
        data_dir=settings.data_dir,
        environment="test",
        egress_allow=["127.0.0.1/32"],
        graceful_shutdown_seconds=0,
    )
    client = with_converter(temporal_client)
    async with (
        http_client(worker_settings) as client_pool,
        database_pool(worker_settings) as pool,
    ):
        kept = stores(worker_settings, pool)
        activities = node_activities(worker_settings, client_pool, kept)
        async with create_worker(
            client, worker_settings, task_queue=task_queue, activities=activities
        ):
            yield task_queue


def echoing(seen: Seen) -> Reply:
    """An upstream that repeats the credential it got, as some error pages do."""
    auth = seen.headers.get("authorization", "")
    return Reply(body={"you_sent": auth}, headers={"X-Echo": auth})


async def test_a_run_sends_the_secret_and_it_is_nowhere_else(
    http: httpx.AsyncClient,
    worker: Worker,
    secrets_worker: str,
    editor: Actor,
    peer: Peer,
    temporal_client: Client,
) -> None:
    value = secret_value()
    await put(http, editor, "token", value)
    peer.route("/me", echoing)
    body = definition(
        nodes=[
            {
                "id": "call",
                "type": "http",
                "task_queue": secrets_worker,
                "config": {
                    "url": f"{peer.url}/me",
                    "headers": {"Authorization": "Bearer {{ secrets.token }}"},
                },
            }
        ],
        output="{{ nodes.call.output }}",
    )

    run_id = await run_of(http, editor, body)
    run = await run_becomes(http, editor, run_id, "succeeded")

    assert peer.hits("/me")[0].headers["authorization"] == f"Bearer {value}"
    assert run["output"]["body"] == {"you_sent": "Bearer ***"}
    assert run["output"]["headers"]["x-echo"] == "Bearer ***"
    responses = [
        await http.get(f"{API}/runs/{run_id}", headers=editor.headers),
        await http.get(f"{API}/runs/{run_id}/nodes/call", headers=editor.headers),
        await http.get(f"{API}/secrets", headers=editor.headers),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        assert value not in response.text
    history = await decoded_history(temporal_client, run_id)
    raw = b"".join(event.SerializeToString() for event in history.events)
    assert b"secrets.token" in raw  # the hole went through history, the value did not
    assert value.encode() not in raw
    assert value not in history.to_json()


async def test_a_secret_in_the_run_input_is_data_not_a_hole(
    http: httpx.AsyncClient, worker: Worker, secrets_worker: str, editor: Actor, peer: Peer
) -> None:
    value = secret_value()
    await put(http, editor, "token", value)
    body = definition(
        nodes=[
            {
                "id": "call",
                "type": "http",
                "task_queue": secrets_worker,
                "config": {"url": f"{peer.url}/q", "headers": {"X-Q": "{{ input.q }}"}},
            }
        ]
    )
    created = await http.post(f"{API}/workflows", json={"definition": body}, headers=editor.headers)
    response = await http.post(
        f"{API}/workflows/{created.json()['id']}/runs",
        json={"input": {"q": "{{ secrets.token }}"}},
        headers=editor.headers,
    )
    assert response.status_code == 202, response.text

    await run_becomes(http, editor, response.json()["run_id"], "succeeded")

    assert peer.hits("/q")[0].headers["x-q"] == "{{ secrets.token }}"


async def test_a_missing_secret_fails_the_node_naming_it(
    http: httpx.AsyncClient, worker: Worker, secrets_worker: str, editor: Actor, peer: Peer
) -> None:
    body = definition(
        nodes=[
            {
                "id": "call",
                "type": "http",
                "task_queue": secrets_worker,
                "config": {"url": f"{peer.url}/x", "headers": {"X-K": "{{ secrets.nope }}"}},
            }
        ]
    )
    run_id = await run_of(http, editor, body)

    run = await run_becomes(http, editor, run_id, "failed")

    (call,) = run["nodes"]
    assert call["error"]["type"] == "ConfigError"
    assert "no secret named 'nope'" in call["error"]["message"]
    assert peer.requests == []

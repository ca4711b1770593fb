"""Temporal's history holds no tenant data in plaintext; only admins read it through the codec."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.worker import Worker

from app.main import create_app
from app.settings import Settings
from tests.support.api import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    API,
    Actor,
    definition,
    login,
    make_settings,
    run_becomes,
    started,
)
from tests.support.peer import Peer, Reply
from tests.support.temporal import TEST_PAYLOAD_KEY

CODEC = f"{API}/codec"


def wire(payloads: list[Payload]) -> dict[str, Any]:
    """The codec request the Temporal UI sends: proto3 JSON, bytes in base64."""
    return {"payloads": [MessageToDict(p) for p in payloads]}


def data_of(body: dict[str, Any]) -> list[bytes]:
    return [base64.b64decode(p.get("data", "")) for p in body["payloads"]]


async def sealed_run(http: httpx.AsyncClient, editor: Actor, peer: Peer) -> tuple[str, str, str]:
    """A failed run whose input, http answer and error each hold a marker of their own."""
    word, answer, refusal = (f"{kind}-{uuid.uuid4().hex}" for kind in ("in", "out", "err"))
    peer.route("/answer", Reply(body={"said": answer}))
    body = definition(
        nodes=[
            {"id": "call", "type": "http", "config": {"url": f"{peer.url}/answer"}},
            {"id": "stop", "type": "fail", "config": {"message": refusal}},
        ],
        edges=[{"from": "call", "to": "stop"}],
    )
    created = await http.post(f"{API}/workflows", json={"definition": body}, headers=editor.headers)
    assert created.status_code == 201, created.text
    response = await http.post(
        f"{API}/workflows/{created.json()['id']}/runs",
        json={"input": {"word": word}},
        headers=editor.headers,
    )
    assert response.status_code == 202, response.text
    return response.json()["run_id"], word, answer + "|" + refusal


async def test_reading_temporal_directly_shows_no_input_output_or_error(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer, temporal_client: Client
) -> None:
    run_id, word, rest = await sealed_run(http, editor, peer)
    answer, refusal = rest.split("|")
    run = await run_becomes(http, editor, run_id, "failed")

    # The API, with the key, still shows everything to the run's owner.
    assert run["input"] == {"word": word}
    assert refusal in run["error"]["message"]
    node = await http.get(f"{API}/runs/{run_id}/nodes/call", headers=editor.headers)
    assert answer in node.text
    # Temporal's own copy, read without FlowForge's codec (as the Web UI and any
    # client of the frontend read it), holds none of it.
    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    raw = b"".join(event.SerializeToString() for event in history.events)
    text = history.to_json()
    for marker in (word, answer, refusal):
        assert marker.encode() not in raw
        assert marker not in text
    started_event = history.events[0].workflow_execution_started_event_attributes
    assert started_event.input.payloads[0].metadata["encoding"] == b"binary/encrypted"


async def test_only_an_admin_decodes_through_the_codec(
    http: httpx.AsyncClient,
    worker: Worker,
    admin: Actor,
    editor: Actor,
    viewer: Actor,
    peer: Peer,
    temporal_client: Client,
) -> None:
    run_id, word, _ = await sealed_run(http, editor, peer)
    await run_becomes(http, editor, run_id, "failed")
    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    sealed = list(history.events[0].workflow_execution_started_event_attributes.input.payloads)
    headers = {"X-Namespace": "default"}

    decoded = await http.post(
        f"{CODEC}/decode", json=wire(sealed), headers={**admin.headers, **headers}
    )
    assert decoded.status_code == 200, decoded.text
    assert word.encode() in data_of(decoded.json())[0]

    for actor, status in ((editor, 403), (viewer, 403), (None, 401)):
        auth = actor.headers if actor else {}
        refused = await http.post(f"{CODEC}/decode", json=wire(sealed), headers={**auth, **headers})
        assert refused.status_code == status, refused.text
        assert "payloads" not in refused.json()
        assert word not in refused.text
        encoded = await http.post(f"{CODEC}/encode", json=wire(sealed), headers=auth)
        assert encoded.status_code == status


async def test_the_codec_seals_and_lets_plaintext_through(
    http: httpx.AsyncClient, admin: Actor
) -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"')
    as_is = await http.post(f"{CODEC}/decode", json=wire([plain]), headers=admin.headers)
    assert as_is.status_code == 200, as_is.text
    assert data_of(as_is.json()) == [b'"hello"']

    sealed = await http.post(f"{CODEC}/encode", json=wire([plain]), headers=admin.headers)
    assert sealed.status_code == 200, sealed.text
    assert b"hello" not in data_of(sealed.json())[0]
    opened = await http.post(f"{CODEC}/decode", json=sealed.json(), headers=admin.headers)
    assert data_of(opened.json()) == [b'"hello"']


async def test_bad_base64_is_refused_naming_the_field(
    http: httpx.AsyncClient, admin: Actor
) -> None:
    body = {"payloads": [{"metadata": {"encoding": "%%%"}, "data": ""}]}
    response = await http.post(f"{CODEC}/decode", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "/payloads/0/metadata/encoding"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://127.0.0.1:8233", True), ("http://localhost:8233", True), ("http://evil.test", False)],
)
async def test_the_browser_may_call_the_codec_from_the_ui_origin_only(
    http: httpx.AsyncClient, origin: str, allowed: bool
) -> None:
    preflight = await http.options(
        f"{CODEC}/decode",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    if allowed:
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "x-namespace" in preflight.headers["access-control-allow-headers"].lower()
    else:
        assert preflight.status_code == 400
        assert "access-control-allow-origin" not in preflight.headers
    # The rest of the API stays same-origin.
    other = await http.get(f"{API}/auth/me", headers={"Origin": origin})
    assert "access-control-allow-origin" not in other.headers


async def test_history_sealed_under_a_previous_key_decodes_after_rotation(
    http: httpx.AsyncClient,
    worker: Worker,
    editor: Actor,
    peer: Peer,
    temporal_client: Client,
    settings: Settings,
    tmp_path: Path,
) -> None:
    run_id, word, _ = await sealed_run(http, editor, peer)
    await run_becomes(http, editor, run_id, "failed")
    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    sealed = list(history.events[0].workflow_execution_started_event_attributes.input.payloads)

    new_key = base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode()
    rotated = make_settings(
        settings.database_url,
        settings.temporal_address,
        tmp_path,
        payload_key=new_key,
        payload_previous_keys=[TEST_PAYLOAD_KEY],
    )
    async for client in started(create_app(rotated)):
        admin = await login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
        decoded = await client.post(f"{CODEC}/decode", json=wire(sealed), headers=admin.headers)
        assert decoded.status_code == 200, decoded.text
        assert word.encode() in data_of(decoded.json())[0]
        fresh = await client.post(f"{CODEC}/encode", json=wire(sealed[:1]), headers=admin.headers)
        fresh_id = base64.b64decode(fresh.json()["payloads"][0]["metadata"]["encryption-key-id"])
        assert fresh_id != sealed[0].metadata["encryption-key-id"]


def _browser(http: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another client of the same app, keeping its own cookies as a browser would."""
    return httpx.AsyncClient(transport=http._transport, base_url=str(http.base_url))


async def test_an_admin_signs_in_once_and_the_browser_decodes_with_the_cookie(
    http: httpx.AsyncClient, admin: Actor
) -> None:
    editor = {"username": f"ed-{uuid.uuid4().hex[:10]}", "password": f"pw-{uuid.uuid4().hex}"}
    made = await http.post(f"{API}/users", json={**editor, "role": "editor"}, headers=admin.headers)
    assert made.status_code == 201, made.text
    form = await http.get(f"{CODEC}/session")
    assert form.status_code == 200
    assert form.headers["content-type"].startswith("text/html")
    assert "<script" not in form.text

    refused = await http.post(f"{CODEC}/session", data=editor)
    assert refused.status_code == 403
    assert "set-cookie" not in refused.headers
    wrong = await http.post(f"{CODEC}/session", data={"username": ADMIN_USERNAME, "password": "x"})
    assert wrong.status_code == 401
    assert "set-cookie" not in wrong.headers

    signed_in = await http.post(
        f"{CODEC}/session", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert signed_in.status_code == 200
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith("flowforge_codec=")
    assert "HttpOnly" in cookie
    assert "Path=/api/v1/codec" in cookie
    assert "SameSite=lax" in cookie
    token = signed_in.cookies["flowforge_codec"]
    http.cookies.clear()  # the session's shared client must stay anonymous for other tests

    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"secret-ish"')
    async with _browser(http) as browser:
        browser.cookies.set("flowforge_codec", token, path="/api/v1/codec")
        sealed = await browser.post(f"{CODEC}/encode", json=wire([plain]))
        assert sealed.status_code == 200, sealed.text
        assert b"secret-ish" not in b"".join(data_of(sealed.json()))
        opened = await browser.post(f"{CODEC}/decode", json=sealed.json())
        assert opened.status_code == 200, opened.text
        assert data_of(opened.json()) == [b'"secret-ish"']
        # A form post from another page carries the cookie without a preflight: refused.
        forged = await browser.post(
            f"{CODEC}/decode",
            content=b'{"payloads": []}',
            headers={"Content-Type": "text/plain"},
        )
        assert forged.status_code == 415
        signed_out = await browser.delete(f"{CODEC}/session")
        assert signed_out.status_code == 204


async def test_an_editors_token_as_a_cookie_decodes_nothing(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    token = editor.headers["Authorization"].removeprefix("Bearer ")
    async with _browser(http) as browser:
        browser.cookies.set("flowforge_codec", token, path="/api/v1/codec")
        response = await browser.post(f"{CODEC}/decode", json={"payloads": []})

    assert response.status_code == 403

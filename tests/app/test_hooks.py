"""Inbound webhooks: signed calls start runs; the owner lists, disables and deletes hooks."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from app.core.state import AppState
from app.triggers.hook_signature import sign
from tests.support.api import (
    API,
    Actor,
    create_workflow,
    definition,
    slowest_health_check,
    store_unchecked,
)
from tests.support.peer import Peer, Reply


async def _hook(http: httpx.AsyncClient, actor: Actor, workflow_id: str) -> dict[str, Any]:
    response = await http.post(f"{API}/workflows/{workflow_id}/webhooks", headers=actor.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _call(
    http: httpx.AsyncClient,
    url: str,
    body: bytes,
    signature: str | None,
    **headers: str,
) -> httpx.Response:
    sent = {"Content-Type": "application/json", **headers}
    if signature is not None:
        sent["X-Signature"] = signature
    return await http.post(url, content=body, headers=sent)


def _path(hook: dict[str, Any]) -> str:
    return httpx.URL(hook["url"]).path


async def test_a_signed_call_starts_a_run_with_the_body_as_input(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    hook = await _hook(http, editor, workflow["id"])
    assert hook["url"] == f"http://flowforge.test/api/v1/hooks/{hook['hook_id']}"
    assert hook["secret"].startswith("whsec_")
    assert hook["enabled"] is True
    body = json.dumps({"lead": 7}).encode()
    response = await _call(http, _path(hook), body, sign(hook["secret"], body))
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]
    run = (await http.get(f"{API}/runs/{run_id}", headers=editor.headers)).json()
    assert (run["input"], run["trigger"], run["workflow_id"]) == (
        {"lead": 7},
        "webhook",
        workflow["id"],
    )

    # The contract's short path, a timestamped signature, and a repeated delivery.
    now = str(int(time.time()))
    signed = sign(hook["secret"], body, now)
    headers = {"X-Timestamp": now, "X-Delivery-Id": f"d-{uuid.uuid4().hex}"}
    first = await _call(http, f"/hooks/{hook['hook_id']}", body, signed, **headers)
    again = await _call(http, f"/hooks/{hook['hook_id']}", body, signed, **headers)
    assert (first.status_code, again.status_code) == (202, 200), (first.text, again.text)
    assert first.json()["run_id"] == again.json()["run_id"] != run_id


async def test_refusals(http: httpx.AsyncClient, editor: Actor, settings: Any) -> None:
    schema = {"type": "object", "required": ["lead"]}
    workflow = await create_workflow(http, editor, definition(input_schema=schema))
    hook = await _hook(http, editor, workflow["id"])
    url, secret = _path(hook), hook["secret"]
    body = b'{"lead": 1}'

    async def status(payload: bytes, signature: str | None, **headers: str) -> int:
        return (await _call(http, url, payload, signature, **headers)).status_code

    assert await status(body, None) == 401
    assert await status(body, sign("whsec_wrong", body)) == 401
    assert await status(body, "md5=abc") == 401
    assert await status(body + b" ", sign(secret, body)) == 401
    stale = str(int(time.time()) - 600)
    assert await status(body, sign(secret, body, stale), **{"X-Timestamp": stale}) == 401
    now = str(int(time.time()))
    # A timestamp not covered by the signature is a bad signature.
    assert await status(body, sign(secret, body), **{"X-Timestamp": now}) == 401
    assert await status(b"not json", sign(secret, b"not json")) == 400
    assert await status(b'{"other": 1}', sign(secret, b'{"other": 1}')) == 422
    large = b'{"lead": "' + b"x" * settings.hook_max_body_bytes + b'"}'
    assert await status(large, sign(secret, large)) == 413
    unknown = await _call(http, f"{API}/hooks/{uuid.uuid4()}", body, sign(secret, body))
    assert unknown.status_code == 404
    assert (await _call(http, f"{API}/hooks/nonsense", body, None)).status_code == 404

    disabled = await http.patch(
        f"{API}/webhooks/{hook['hook_id']}", json={"enabled": False}, headers=editor.headers
    )
    assert disabled.status_code == 200
    assert disabled.json()["enabled"] is False
    assert await status(body, sign(secret, body)) == 409
    await http.patch(
        f"{API}/webhooks/{hook['hook_id']}", json={"enabled": True}, headers=editor.headers
    )
    assert await status(body, sign(secret, body)) == 202
    assert (
        await http.delete(f"{API}/workflows/{workflow['id']}", headers=editor.headers)
    ).status_code == 204
    gone = await _call(http, url, body, sign(secret, body))
    assert gone.status_code == 409
    assert "deleted" in gone.json()["detail"]


async def test_the_secret_is_stored_sealed(
    http: httpx.AsyncClient, editor: Actor, app_state: Any
) -> None:
    from app.db.crud.hooks import get_hook

    workflow = await create_workflow(http, editor)
    hook = await _hook(http, editor, workflow["id"])
    async with app_state.sessions() as session:
        row = await get_hook(session=session, hook_id=uuid.UUID(hook["hook_id"]))
    assert row is not None
    assert hook["secret"] not in row.secret


async def test_owner_lists_reads_and_deletes_others_get_404_viewers_403(
    http: httpx.AsyncClient, editor: Actor, other_editor: Actor, viewer: Actor, admin: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    first = await _hook(http, editor, workflow["id"])
    second = await _hook(http, editor, workflow["id"])
    page = await http.get(
        f"{API}/workflows/{workflow['id']}/webhooks?limit=1", headers=editor.headers
    )
    assert [h["hook_id"] for h in page.json()["items"]] == [second["hook_id"]]
    rest = await http.get(
        f"{API}/workflows/{workflow['id']}/webhooks?cursor={page.json()['next_cursor']}",
        headers=editor.headers,
    )
    assert [h["hook_id"] for h in rest.json()["items"]] == [first["hook_id"]]
    assert all("secret" not in h for h in page.json()["items"] + rest.json()["items"])

    hook_id = first["hook_id"]
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/webhooks/{hook_id}", None),
        ("GET", f"/workflows/{workflow['id']}/webhooks", None),
        ("PATCH", f"/webhooks/{hook_id}", {"enabled": False}),
        ("DELETE", f"/webhooks/{hook_id}", None),
        ("POST", f"/workflows/{workflow['id']}/webhooks", None),
    ]
    for method, path, body in routes:
        response = await http.request(method, API + path, json=body, headers=other_editor.headers)
        assert response.status_code == 404, (method, path)
        response = await http.request(method, API + path, json=body, headers=viewer.headers)
        assert response.status_code == (404 if method == "GET" else 403), (method, path)
    assert (await http.get(f"{API}/webhooks/{hook_id}", headers=admin.headers)).status_code == 200
    assert (await http.get(f"{API}/webhooks/{hook_id}", headers=editor.headers)).json()["enabled"]
    assert (
        await http.delete(f"{API}/webhooks/{hook_id}", headers=editor.headers)
    ).status_code == 204
    assert (await http.get(f"{API}/webhooks/{hook_id}", headers=editor.headers)).status_code == 404


async def test_an_inbound_hook_cannot_make_the_api_fetch_a_stored_schema_ref(
    http: httpx.AsyncClient, app_state: AppState, editor: Actor, peer: Peer
) -> None:
    peer.route("/schema.json", Reply(body={"type": "object"}, delay=5.0))
    body = definition(input_schema={"$ref": f"{peer.url}/schema.json"})
    workflow_id = await store_unchecked(app_state, editor, body)
    hook = await _hook(http, editor, workflow_id)
    payload = json.dumps({"lead": 7}).encode()

    call = _call(http, _path(hook), payload, sign(hook["secret"], payload))
    slowest, response = await slowest_health_check(http, call)

    assert response.status_code == 422, response.text
    assert "only local references (#...)" in response.text
    assert slowest < 1.0
    assert peer.requests == []

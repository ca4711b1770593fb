"""Inbound webhooks: signed calls start runs; the owner lists, disables and deletes hooks."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx

from app.core.state import AppState
from app.main import create_app
from app.settings import Settings
from app.triggers.hook_signature import sign
from tests.support.api import (
    API,
    Actor,
    create_workflow,
    definition,
    quota_api,
    served_by_uvicorn,
    slowest_health_check,
    store_unchecked,
)
from tests.support.peer import Peer, Reply


async def _hook(
    http: httpx.AsyncClient, actor: Actor, workflow_id: str, **options: Any
) -> dict[str, Any]:
    response = await http.post(
        f"{API}/workflows/{workflow_id}/webhooks",
        json=options or None,
        headers=actor.headers,
    )
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
    hook = await _hook(http, editor, workflow["id"], require_timestamp=False)
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
    hook = await _hook(http, editor, workflow["id"], require_timestamp=False)
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


def _stamped(
    secret: str, body: bytes, key: str | None = None, at: int | None = None
) -> dict[str, str]:
    """The headers of a call signed as docs/API.md tells senders to."""
    timestamp = str(int(time.time()) if at is None else at)
    headers = {
        "Content-Type": "application/json",
        "X-Timestamp": timestamp,
        "X-Signature": sign(secret, body, timestamp, key),
    }
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


async def _runs_of(http: httpx.AsyncClient, actor: Actor, workflow_id: str) -> list[str]:
    response = await http.get(f"{API}/runs?workflow_id={workflow_id}", headers=actor.headers)
    assert response.status_code == 200, response.text
    return [run["run_id"] for run in response.json()["items"]]


async def test_a_call_without_a_timestamp_is_refused_by_a_default_hook(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    hook = await _hook(http, editor, workflow["id"])
    assert hook["require_timestamp"] is True
    body = b'{"lead": 1}'
    refused = await _call(http, _path(hook), body, sign(hook["secret"], body))
    assert refused.status_code == 401, refused.text
    assert "missing X-Timestamp" in refused.json()["detail"]
    assert await _runs_of(http, editor, workflow["id"]) == []
    stamped = await http.post(_path(hook), content=body, headers=_stamped(hook["secret"], body))
    assert stamped.status_code == 202, stamped.text


async def test_a_replayed_call_answers_the_first_run_and_starts_no_other(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    hook = await _hook(http, editor, workflow["id"])
    body = b'{"lead": 2}'
    captured = _stamped(hook["secret"], body)
    first = await http.post(_path(hook), content=body, headers=captured)
    assert first.status_code == 202, first.text
    replays = await asyncio.gather(
        *(http.post(_path(hook), content=body, headers=captured) for _ in range(3))
    )
    assert [r.status_code for r in replays] == [200] * 3
    assert {r.json()["run_id"] for r in replays} == {first.json()["run_id"]}
    assert await _runs_of(http, editor, workflow["id"]) == [first.json()["run_id"]]


async def test_a_call_replayed_after_the_window_is_refused_as_stale(
    http: httpx.AsyncClient, editor: Actor, settings: Settings
) -> None:
    workflow = await create_workflow(http, editor)
    hook = await _hook(http, editor, workflow["id"])
    body = b'{"lead": 3}'
    # Signed so that it goes stale two seconds from now.
    almost_stale = int(time.time() - settings.hook_max_clock_skew) + 2
    captured = _stamped(hook["secret"], body, at=almost_stale)
    first = await http.post(_path(hook), content=body, headers=captured)
    assert first.status_code == 202, first.text
    await asyncio.sleep(3.5)
    replay = await http.post(_path(hook), content=body, headers=captured)
    assert replay.status_code == 401, replay.text
    assert "X-Timestamp is more than" in replay.json()["detail"]
    assert await _runs_of(http, editor, workflow["id"]) == [first.json()["run_id"]]


async def test_a_replay_with_another_idempotency_key_breaks_the_signature(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    hook = await _hook(http, editor, workflow["id"])
    body = b'{"lead": 4}'
    captured = _stamped(hook["secret"], body, key=f"order-{uuid.uuid4().hex}")
    first = await http.post(_path(hook), content=body, headers=captured)
    assert first.status_code == 202, first.text
    for changed in ({"Idempotency-Key": f"other-{uuid.uuid4().hex}"}, {}):
        headers = {k: v for k, v in captured.items() if k != "Idempotency-Key"} | changed
        forged = await http.post(_path(hook), content=body, headers=headers)
        assert forged.status_code == 401, forged.text
        assert "X-Signature does not match" in forged.json()["detail"]
    assert await _runs_of(http, editor, workflow["id"]) == [first.json()["run_id"]]

    # A sender's own retry, signed again with a new time and the same key, gets the same run.
    await asyncio.sleep(1.1)
    retry_headers = _stamped(hook["secret"], body, key=captured["Idempotency-Key"])
    retry = await http.post(_path(hook), content=body, headers=retry_headers)
    assert (retry.status_code, retry.json()["run_id"]) == (200, first.json()["run_id"])
    bad_key = _stamped(hook["secret"], body, key="a:b")
    refused = await http.post(_path(hook), content=body, headers=bad_key)
    assert refused.status_code == 401
    assert "Idempotency-Key must not contain ':'" in refused.json()["detail"]


async def test_a_hook_that_opted_out_accepts_the_weaker_unstamped_signature(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    hook = await _hook(http, editor, workflow["id"], require_timestamp=False)
    assert hook["require_timestamp"] is False
    body = b'{"lead": 5}'
    first = await _call(http, _path(hook), body, sign(hook["secret"], body))
    assert first.status_code == 202, first.text
    # Inside the window the memory still answers a replay with the first run.
    again = await _call(http, _path(hook), body, sign(hook["secret"], body))
    assert (again.status_code, again.json()["run_id"]) == (200, first.json()["run_id"])
    # Stamped calls are checked as for any hook.
    stamped = await http.post(_path(hook), content=body, headers=_stamped(hook["secret"], body))
    assert stamped.status_code == 202, stamped.text

    # The owner may switch an existing hook back to required timestamps.
    changed = await http.patch(
        f"{API}/webhooks/{hook['hook_id']}",
        json={"require_timestamp": True},
        headers=editor.headers,
    )
    assert changed.json()["require_timestamp"] is True
    assert changed.json()["enabled"] is True
    refused = await _call(http, _path(hook), body, sign(hook["secret"], body))
    assert refused.status_code == 401
    empty = await http.patch(f"{API}/webhooks/{hook['hook_id']}", json={}, headers=editor.headers)
    assert empty.status_code == 422


async def test_two_api_processes_share_the_replay_memory(
    http: httpx.AsyncClient, editor: Actor, settings: Settings
) -> None:
    workflow = await create_workflow(http, editor)
    hook = await _hook(http, editor, workflow["id"])
    body = b'{"lead": 6}'
    captured = _stamped(hook["secret"], body)
    with (
        served_by_uvicorn(create_app(settings)) as one,
        served_by_uvicorn(create_app(settings)) as two,
    ):
        async with httpx.AsyncClient(timeout=30) as client:
            first = await client.post(one + _path(hook), content=body, headers=captured)
            replay = await client.post(two + _path(hook), content=body, headers=captured)
    assert first.status_code == 202, first.text
    assert (replay.status_code, replay.json()["run_id"]) == (200, first.json()["run_id"])
    assert await _runs_of(http, editor, workflow["id"]) == [first.json()["run_id"]]


async def test_an_inbound_hook_cannot_make_the_api_fetch_a_stored_schema_ref(
    http: httpx.AsyncClient, app_state: AppState, editor: Actor, peer: Peer
) -> None:
    peer.route("/schema.json", Reply(body={"type": "object"}, delay=5.0))
    body = definition(input_schema={"$ref": f"{peer.url}/schema.json"})
    workflow_id = await store_unchecked(app_state, editor, body)
    hook = await _hook(http, editor, workflow_id)
    payload = json.dumps({"lead": 7}).encode()

    call = http.post(_path(hook), content=payload, headers=_stamped(hook["secret"], payload))
    slowest, response = await slowest_health_check(http, call)

    assert response.status_code == 422, response.text
    assert "only local references (#...)" in response.text
    assert slowest < 1.0
    assert peer.requests == []


async def test_an_owner_cannot_create_more_hooks_than_the_quota(
    http: httpx.AsyncClient, settings: Settings, editor: Actor, other_editor: Actor, admin: Actor
) -> None:
    async with quota_api(settings, quota_hooks=2) as limited:
        mine = await create_workflow(http, editor, definition())
        other_of_mine = await create_workflow(http, editor, definition())
        await _hook(limited, editor, mine["id"])
        await _hook(limited, editor, other_of_mine["id"])
        refused = await limited.post(
            f"{API}/workflows/{mine['id']}/webhooks", headers=editor.headers
        )
        assert refused.status_code == 409, refused.text
        assert "FLOWFORGE_QUOTA_HOOKS" in refused.text
        assert "2 webhooks" in refused.json()["detail"]
        theirs = await create_workflow(http, other_editor, definition())
        await _hook(limited, other_editor, theirs["id"])
        admins = await create_workflow(http, admin, definition())
        for _ in range(3):
            await _hook(limited, admin, admins["id"])

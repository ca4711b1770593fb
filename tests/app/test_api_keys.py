"""API keys: shown once, stored hashed, usable as bearer credentials, revocable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import select

from app.core.state import AppState
from app.db.models.api_key import ApiKey
from app.security import hash_api_key
from tests.support.api import API, Actor, create_workflow, definition


async def _new_key(http: httpx.AsyncClient, actor: Actor, name: str = "ci") -> dict[str, str]:
    response = await http.post(f"{API}/api-keys", json={"name": name}, headers=actor.headers)
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


async def test_key_is_shown_once_and_stored_hashed(
    http: httpx.AsyncClient, app_state: AppState, editor: Actor
) -> None:
    created = await _new_key(http, editor)
    assert created["key"].startswith("ffk_")
    assert len(created["key"]) > 40
    async with app_state.sessions() as session:
        row = (await session.exec(select(ApiKey).where(ApiKey.id == created["id"]))).one()
    assert row.key_hash == hash_api_key(created["key"])
    assert created["key"] not in row.model_dump_json()
    listed = (await http.get(f"{API}/api-keys", headers=editor.headers)).json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert "key" not in listed["items"][0]
    assert listed["next_cursor"] is None


async def test_key_authenticates_as_its_owner(http: httpx.AsyncClient, viewer: Actor) -> None:
    key = (await _new_key(http, viewer))["key"]
    me = await http.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    assert me.json()["username"] == viewer.username
    # The key carries its owner's role: a viewer's key cannot write.
    denied = await http.post(
        f"{API}/workflows", json={"definition": {}}, headers={"Authorization": f"Bearer {key}"}
    )
    assert denied.status_code == 403


async def test_unknown_key_is_401(http: httpx.AsyncClient) -> None:
    response = await http.get(f"{API}/auth/me", headers={"Authorization": "Bearer ffk_nope"})
    assert response.status_code == 401


async def test_revoked_key_stops_working(http: httpx.AsyncClient, editor: Actor) -> None:
    created = await _new_key(http, editor)
    gone = await http.delete(f"{API}/api-keys/{created['id']}", headers=editor.headers)
    assert gone.status_code == 204
    response = await http.get(
        f"{API}/auth/me", headers={"Authorization": f"Bearer {created['key']}"}
    )
    assert response.status_code == 401


async def test_keys_of_others_are_invisible(
    http: httpx.AsyncClient, editor: Actor, other_editor: Actor, viewer: Actor
) -> None:
    created = await _new_key(http, editor)
    for stranger in (other_editor, viewer):
        listed = (await http.get(f"{API}/api-keys", headers=stranger.headers)).json()
        assert created["id"] not in [item["id"] for item in listed["items"]]
        response = await http.delete(f"{API}/api-keys/{created['id']}", headers=stranger.headers)
        assert response.status_code == 404


async def test_key_list_is_paginated(http: httpx.AsyncClient, editor: Actor) -> None:
    ids = [(await _new_key(http, editor, f"k{i}"))["id"] for i in range(3)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await http.get(f"{API}/api-keys", params=params, headers=editor.headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


async def _scoped_key(
    http: httpx.AsyncClient, actor: Actor, *scopes: str, **extra: object
) -> dict[str, str]:
    response = await http.post(
        f"{API}/api-keys", json={"scopes": list(scopes), **extra}, headers=actor.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["scopes"] == list(scopes)
    return {"Authorization": f"Bearer {response.json()['key']}"}


async def test_a_read_only_key_cannot_change_workflows_or_start_runs(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    key = await _scoped_key(http, editor, "read")

    listed = await http.get(f"{API}/workflows", headers=key)
    created = await http.post(f"{API}/workflows", json={"definition": definition()}, headers=key)
    started = await http.post(f"{API}/workflows/{workflow['id']}/runs", json={}, headers=key)
    deleted = await http.delete(f"{API}/workflows/{workflow['id']}", headers=key)

    assert listed.status_code == 200
    assert (created.status_code, deleted.status_code, started.status_code) == (403, 403, 403)
    assert "'manage' scope" in created.json()["detail"]
    assert "'run' scope" in started.json()["detail"]


async def test_a_run_key_starts_runs_but_cannot_change_workflows(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    key = await _scoped_key(http, editor, "run")

    started = await http.post(f"{API}/workflows/{workflow['id']}/runs", json={}, headers=key)
    changed = await http.post(f"{API}/workflows", json={"definition": definition()}, headers=key)
    read = await http.get(f"{API}/workflows", headers=key)

    assert started.status_code == 202, started.text
    assert changed.status_code == 403
    assert read.status_code == 403
    assert "'read' scope" in read.json()["detail"]


async def test_an_expired_key_is_refused(
    http: httpx.AsyncClient, app_state: AppState, viewer: Actor
) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = await http.post(f"{API}/api-keys", json={"expires_at": soon}, headers=viewer.headers)
    assert response.status_code == 201, response.text
    key = {"Authorization": f"Bearer {response.json()['key']}"}
    assert (await http.get(f"{API}/auth/me", headers=key)).status_code == 200
    # The hour passes (set in the database: no test waits an hour).
    async with app_state.sessions() as session:
        row = await session.get(ApiKey, uuid.UUID(response.json()["id"]))
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(row)
        await session.commit()

    assert (await http.get(f"{API}/auth/me", headers=key)).status_code == 401


async def test_a_key_cannot_be_made_expired_or_with_unknown_scopes(
    http: httpx.AsyncClient, viewer: Actor
) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    response = await http.post(
        f"{API}/api-keys", json={"expires_at": past, "scopes": ["root"]}, headers=viewer.headers
    )
    assert response.status_code == 422
    assert {e["path"] for e in response.json()["errors"]} == {"/body/expires_at", "/body/scopes/0"}


async def test_a_limited_key_cannot_mint_itself_a_wider_or_longer_one(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    key = await _scoped_key(http, editor, "manage", expires_at=later)

    wider = await http.post(f"{API}/api-keys", json={}, headers=key)
    same = await http.post(
        f"{API}/api-keys", json={"scopes": ["manage"], "expires_at": later}, headers=key
    )

    assert wider.status_code == 422
    assert {e["path"] for e in wider.json()["errors"]} == {"/body/scopes", "/body/expires_at"}
    assert same.status_code == 201, same.text


async def test_the_codec_refuses_an_admin_key_without_manage(
    http: httpx.AsyncClient, admin: Actor
) -> None:
    key = await _scoped_key(http, admin, "read", "run")
    response = await http.post(f"{API}/codec/decode", json={"payloads": []}, headers=key)
    assert response.status_code == 403
    assert "'manage' scope" in response.json()["detail"]

"""API keys: shown once, stored hashed, usable as bearer credentials, revocable."""

from __future__ import annotations

import httpx
from sqlmodel import select

from app.core.state import AppState
from app.db.models.api_key import ApiKey
from app.security import hash_api_key
from tests.support.api import API, Actor


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

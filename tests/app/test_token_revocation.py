"""Stolen access tokens stop working: logout, a password change, a disabled user."""

from __future__ import annotations

import uuid

import httpx

from tests.support.api import API, Actor


async def _user(http: httpx.AsyncClient, admin: Actor) -> tuple[str, str, str]:
    """A new editor: its id, username and password."""
    username, password = f"tok-{uuid.uuid4().hex[:10]}", f"pw-{uuid.uuid4().hex}"
    created = await http.post(
        f"{API}/users",
        json={"username": username, "password": password, "role": "editor"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], username, password


async def _token(http: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    response = await http.post(
        f"{API}/auth/token", data={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _me(http: httpx.AsyncClient, headers: dict[str, str]) -> int:
    return (await http.get(f"{API}/auth/me", headers=headers)).status_code


async def test_a_logged_out_token_is_refused_while_another_of_the_user_works(
    http: httpx.AsyncClient, admin: Actor
) -> None:
    _, username, password = await _user(http, admin)
    stolen, other = await _token(http, username, password), await _token(http, username, password)

    out = await http.post(f"{API}/auth/logout", headers=stolen)

    assert out.status_code == 204
    assert await _me(http, stolen) == 401
    assert await _me(http, other) == 200
    assert (await http.post(f"{API}/auth/logout", headers=stolen)).status_code == 401


async def test_logout_with_an_api_key_says_how_to_revoke_it(
    http: httpx.AsyncClient, admin: Actor
) -> None:
    _, username, password = await _user(http, admin)
    made = await http.post(
        f"{API}/api-keys", json={}, headers=await _token(http, username, password)
    )
    assert made.status_code == 201, made.text
    key = {"Authorization": f"Bearer {made.json()['key']}"}

    out = await http.post(f"{API}/auth/logout", headers=key)

    assert out.status_code == 400
    assert "DELETE /api-keys" in out.json()["detail"]
    assert await _me(http, key) == 200


async def test_a_password_change_revokes_the_users_older_tokens(
    http: httpx.AsyncClient, admin: Actor
) -> None:
    _, username, password = await _user(http, admin)
    stolen, mine = await _token(http, username, password), await _token(http, username, password)
    new = f"pw-{uuid.uuid4().hex}"

    changed = await http.post(
        f"{API}/auth/password", json={"current_password": password, "password": new}, headers=mine
    )

    assert changed.status_code == 200, changed.text
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert await _me(http, stolen) == 401
    assert await _me(http, mine) == 401
    assert await _me(http, fresh) == 200
    assert await _me(http, await _token(http, username, new)) == 200
    old = await http.post(f"{API}/auth/token", data={"username": username, "password": password})
    assert old.status_code == 401


async def test_a_password_change_needs_the_current_password_and_a_strong_new_one(
    http: httpx.AsyncClient, admin: Actor
) -> None:
    _, username, password = await _user(http, admin)
    headers = await _token(http, username, password)

    wrong = await http.post(
        f"{API}/auth/password",
        json={"current_password": "not-the-password", "password": f"pw-{uuid.uuid4().hex}"},
        headers=headers,
    )
    weak = await http.post(
        f"{API}/auth/password",
        json={"current_password": password, "password": "Password1234!"},
        headers=headers,
    )

    assert wrong.status_code == 422
    assert [e["path"] for e in wrong.json()["errors"]] == ["/body/current_password"]
    assert weak.status_code == 422
    [error] = weak.json()["errors"]
    assert (error["path"], error["code"]) == ("/body/password", "weak_password")
    assert await _me(http, headers) == 200


async def test_a_disabled_users_tokens_and_keys_stop_working_for_good(
    http: httpx.AsyncClient, admin: Actor
) -> None:
    user_id, username, password = await _user(http, admin)
    token = await _token(http, username, password)
    made = await http.post(f"{API}/api-keys", json={}, headers=token)
    key = {"Authorization": f"Bearer {made.json()['key']}"}

    disabled = await http.patch(
        f"{API}/users/{user_id}", json={"is_active": False}, headers=admin.headers
    )

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["is_active"] is False
    assert await _me(http, token) == 401
    assert await _me(http, key) == 401
    login = await http.post(f"{API}/auth/token", data={"username": username, "password": password})
    assert login.status_code == 401

    enabled = await http.patch(
        f"{API}/users/{user_id}", json={"is_active": True}, headers=admin.headers
    )
    assert enabled.status_code == 200
    assert await _me(http, token) == 401  # a token from before stays revoked
    assert await _me(http, await _token(http, username, password)) == 200


async def test_only_admins_disable_users_and_not_themselves(
    http: httpx.AsyncClient, admin: Actor, editor: Actor
) -> None:
    refused = await http.patch(
        f"{API}/users/{editor.id}", json={"is_active": False}, headers=editor.headers
    )
    own = await http.patch(
        f"{API}/users/{admin.id}", json={"is_active": False}, headers=admin.headers
    )
    missing = await http.patch(
        f"{API}/users/{uuid.uuid4()}", json={"is_active": False}, headers=admin.headers
    )
    assert refused.status_code == 403
    assert own.status_code == 409
    assert missing.status_code == 404
    assert await _me(http, admin.headers) == 200

"""Users: admins list them, change roles and passwords; self-registration when turned on."""

from __future__ import annotations

import uuid

import httpx

from app.settings import Settings
from tests.support.api import API, Actor, MakeUser, login, quota_api


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_admins_list_users_newest_first_with_search_and_pages(
    http: httpx.AsyncClient, admin: Actor, make_user: MakeUser
) -> None:
    first, second = await make_user("viewer"), await make_user("editor")

    page = await http.get(f"{API}/users", params={"limit": 1}, headers=admin.headers)
    assert page.status_code == 200, page.text
    assert [u["id"] for u in page.json()["items"]] == [second.id]
    rest = await http.get(
        f"{API}/users",
        params={"limit": 1, "cursor": page.json()["next_cursor"]},
        headers=admin.headers,
    )
    assert [u["id"] for u in rest.json()["items"]] == [first.id]
    assert "hashed_password" not in page.text

    found = await http.get(f"{API}/users", params={"q": first.username}, headers=admin.headers)
    assert [u["username"] for u in found.json()["items"]] == [first.username]
    # LIKE's wildcards are plain characters in a search.
    none = await http.get(f"{API}/users", params={"q": "%"}, headers=admin.headers)
    assert none.json()["items"] == []


async def test_only_admins_list_or_read_users(http: httpx.AsyncClient, editor: Actor) -> None:
    assert (await http.get(f"{API}/users", headers=editor.headers)).status_code == 403
    read = await http.get(f"{API}/users/{editor.id}", headers=editor.headers)
    assert read.status_code == 403


async def test_an_admin_changes_a_role_and_it_applies_to_the_next_request(
    http: httpx.AsyncClient, admin: Actor, make_user: MakeUser
) -> None:
    viewer = await make_user("viewer")
    assert (await http.get(f"{API}/users", headers=viewer.headers)).status_code == 403

    changed = await http.patch(
        f"{API}/users/{viewer.id}", json={"role": "admin"}, headers=admin.headers
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "admin"
    assert (await http.get(f"{API}/users", headers=viewer.headers)).status_code == 200
    read = await http.get(f"{API}/users/{viewer.id}", headers=admin.headers)
    assert read.json()["role"] == "admin"


async def test_an_admin_sets_a_password_which_revokes_the_old_tokens(
    http: httpx.AsyncClient, admin: Actor, make_user: MakeUser
) -> None:
    user = await make_user("editor")
    password = f"new-{uuid.uuid4().hex}"

    changed = await http.patch(
        f"{API}/users/{user.id}", json={"password": password}, headers=admin.headers
    )

    assert changed.status_code == 200, changed.text
    assert (await http.get(f"{API}/auth/me", headers=user.headers)).status_code == 401
    assert (await login(http, user.username, password)).id == user.id


async def test_a_weak_or_contradictory_update_names_the_field(
    http: httpx.AsyncClient, admin: Actor, make_user: MakeUser
) -> None:
    user = await make_user("editor")
    weak = await http.patch(
        f"{API}/users/{user.id}", json={"password": "password1234"}, headers=admin.headers
    )
    assert weak.status_code == 422
    assert [e["path"] for e in weak.json()["errors"]] == ["/body/password"]
    both = await http.patch(
        f"{API}/users/{user.id}",
        json={"is_active": True, "disabled": True},
        headers=admin.headers,
    )
    assert both.status_code == 422
    assert "disagree" in both.text
    role = await http.patch(f"{API}/users/{user.id}", json={"role": "owner"}, headers=admin.headers)
    assert [e["path"] for e in role.json()["errors"]] == ["/body/role"]


async def test_disabled_true_disables_and_an_admin_cannot_demote_themselves(
    http: httpx.AsyncClient, admin: Actor, make_user: MakeUser
) -> None:
    user = await make_user("editor")
    off = await http.patch(f"{API}/users/{user.id}", json={"disabled": True}, headers=admin.headers)
    assert off.json()["is_active"] is False
    assert (await http.get(f"{API}/auth/me", headers=user.headers)).status_code == 401

    demote = await http.patch(
        f"{API}/users/{admin.id}", json={"role": "viewer"}, headers=admin.headers
    )
    assert demote.status_code == 409
    assert "demote themselves" in demote.json()["detail"]


async def test_login_takes_json_as_well_as_the_form(
    http: httpx.AsyncClient, make_user: MakeUser, admin: Actor
) -> None:
    username, password = _name("json"), f"pw-{uuid.uuid4().hex}"
    created = await http.post(
        f"{API}/users",
        json={"username": username, "password": password, "role": "viewer"},
        headers=admin.headers,
    )
    assert created.status_code == 201

    token = await http.post(f"{API}/auth/token", json={"username": username, "password": password})
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "bearer"
    wrong = await http.post(f"{API}/auth/token", json={"username": username, "password": "no"})
    assert wrong.status_code == 401
    missing = await http.post(f"{API}/auth/token", json={"username": username})
    assert missing.status_code == 422
    assert [e["path"] for e in missing.json()["errors"]] == ["/body/password"]
    broken = await http.post(
        f"{API}/auth/token", content=b"{", headers={"content-type": "application/json"}
    )
    assert broken.status_code in (400, 422)


async def test_self_registration_is_off_by_default(http: httpx.AsyncClient) -> None:
    answer = await http.post(
        f"{API}/auth/register",
        json={"username": _name("self"), "password": f"pw-{uuid.uuid4().hex}"},
    )
    assert answer.status_code == 403
    assert "ask an admin" in answer.json()["detail"]


async def test_self_registration_when_on_gives_the_configured_role_and_is_throttled(
    settings: Settings,
) -> None:
    async with quota_api(
        settings, registration_enabled=True, registration_free_per_address=2
    ) as http:
        username, password = _name("self"), f"pw-{uuid.uuid4().hex}"
        made = await http.post(
            f"{API}/auth/register",
            json={"username": username, "password": password, "role": "admin"},
        )
        assert made.status_code == 201, made.text
        assert made.json()["role"] == "editor"
        assert (await login(http, username, password)).role == "editor"

        taken = await http.post(
            f"{API}/auth/register", json={"username": username, "password": password}
        )
        assert taken.status_code == 409
        weak = await http.post(
            f"{API}/auth/register", json={"username": _name("self"), "password": "short"}
        )
        assert weak.status_code == 422
        assert [e["path"] for e in weak.json()["errors"]] == ["/body/password"]

        # Two counted (the 422 was refused before), so one more goes through and locks.
        third = await http.post(
            f"{API}/auth/register",
            json={"username": _name("self"), "password": f"pw-{uuid.uuid4().hex}"},
        )
        assert third.status_code == 201
        locked = await http.post(
            f"{API}/auth/register",
            json={"username": _name("self"), "password": f"pw-{uuid.uuid4().hex}"},
        )
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) >= 1

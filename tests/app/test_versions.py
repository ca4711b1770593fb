"""Workflow versions: immutable, listable, readable, activatable."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.state import AppState
from tests.support.api import API, Actor, create_workflow, definition


async def _with_versions(http: httpx.AsyncClient, actor: Actor, count: int) -> dict[str, str]:
    created = await create_workflow(http, actor)
    for number in range(2, count + 1):
        body = definition(name=created["name"], description=f"v{number}")
        response = await http.put(
            f"{API}/workflows/{created['id']}", json={"definition": body}, headers=actor.headers
        )
        assert response.status_code == 200
    return created


async def test_versions_list_newest_first_with_pages(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    created = await _with_versions(http, editor, 3)
    url = f"{API}/workflows/{created['id']}/versions"
    first = (await http.get(url, params={"limit": 2}, headers=editor.headers)).json()
    assert [v["version"] for v in first["items"]] == [3, 2]
    assert [v["active"] for v in first["items"]] == [True, False]
    assert "definition" not in first["items"][0]
    rest = await http.get(
        url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=editor.headers
    )
    assert [v["version"] for v in rest.json()["items"]] == [1]
    assert rest.json()["next_cursor"] is None


async def test_version_has_definition_and_content_hash(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    body = definition()
    created = await create_workflow(http, editor, body)
    response = await http.get(f"{API}/workflows/{created['id']}/versions/1", headers=editor.headers)
    assert response.status_code == 200
    version = response.json()
    assert version["definition"] == body
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert version["content_hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert version["created_by"] == editor.id


async def test_activate_rolls_back(http: httpx.AsyncClient, editor: Actor) -> None:
    created = await _with_versions(http, editor, 2)
    response = await http.post(
        f"{API}/workflows/{created['id']}/versions/1/activate", headers=editor.headers
    )
    assert response.status_code == 200
    assert (response.json()["version"], response.json()["active_version"]) == (2, 1)
    read = (await http.get(f"{API}/workflows/{created['id']}", headers=editor.headers)).json()
    assert "description" not in read["definition"]  # version 1's definition has none


async def test_unknown_version_is_404(http: httpx.AsyncClient, editor: Actor) -> None:
    created = await create_workflow(http, editor)
    for method, path in (("GET", "versions/7"), ("POST", "versions/7/activate")):
        response = await http.request(
            method, f"{API}/workflows/{created['id']}/{path}", headers=editor.headers
        )
        assert response.status_code == 404
        assert "no version 7" in response.json()["detail"]
    bad = await http.get(f"{API}/workflows/{created['id']}/versions/0", headers=editor.headers)
    assert bad.status_code == 422


async def test_the_database_refuses_to_change_a_version(
    http: httpx.AsyncClient, app_state: AppState, editor: Actor
) -> None:
    created = await create_workflow(http, editor)
    async with app_state.engine.connect() as connection:
        with pytest.raises(DBAPIError, match="immutable"):
            await connection.execute(
                text("UPDATE workflow_versions SET definition = '{}' WHERE workflow_id = :id"),
                {"id": created["id"]},
            )

"""Workflows: create, validate, list, read, update, delete."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import API, Actor, create_workflow, definition, slowest_health_check
from tests.support.peer import Peer, Reply


async def test_create_answers_201_with_version_1(http: httpx.AsyncClient, editor: Actor) -> None:
    body = definition(description="says hello")
    response = await http.post(
        f"{API}/workflows", json={"definition": body}, headers=editor.headers
    )
    assert response.status_code == 201
    created = response.json()
    assert created["name"] == body["name"]
    assert created["description"] == "says hello"
    assert (created["version"], created["active_version"]) == (1, 1)
    assert created["owner_id"] == editor.id
    assert created["created_at"]


async def test_read_includes_the_active_definition(http: httpx.AsyncClient, editor: Actor) -> None:
    body = definition()
    created = await create_workflow(http, editor, body)
    response = await http.get(f"{API}/workflows/{created['id']}", headers=editor.headers)
    assert response.status_code == 200
    assert response.json()["definition"] == body


async def test_invalid_definition_is_422_listing_every_error(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    body = {
        "name": "broken",
        "nodes": [
            {"id": "a", "type": "no_such_type"},
            {"id": "a", "type": "transform", "config": {"value": "{{ nodes.ghost.output }}"}},
        ],
        "edges": [{"from": "a", "to": "missing"}],
    }
    response = await http.post(
        f"{API}/workflows", json={"definition": body}, headers=editor.headers
    )
    assert response.status_code == 422
    result = response.json()
    assert "invalid" in result["detail"]
    codes = {(e["path"], e["code"]) for e in result["errors"]}
    assert ("/nodes/0/type", "unknown_type") in codes
    assert ("/nodes/1/id", "duplicate_id") in codes
    assert ("/edges/0/to", "unknown_node") in codes
    assert any(code == "unknown_reference" for _, code in codes)
    listed = (await http.get(f"{API}/workflows", headers=editor.headers)).json()
    assert listed["items"] == []


async def test_validate_saves_nothing(http: httpx.AsyncClient, editor: Actor) -> None:
    good = await http.post(
        f"{API}/workflows/validate", json={"definition": definition()}, headers=editor.headers
    )
    assert good.status_code == 200
    assert good.json() == {"valid": True, "errors": []}
    bad = await http.post(
        f"{API}/workflows/validate", json={"definition": {"nodes": []}}, headers=editor.headers
    )
    assert bad.status_code == 200
    report = bad.json()
    assert report["valid"] is False
    assert {e["path"] for e in report["errors"]} >= {"/name", "/nodes"}
    listed = (await http.get(f"{API}/workflows", headers=editor.headers)).json()
    assert listed["items"] == []


async def test_unknown_cel_function_is_refused_at_save(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    body = definition(
        nodes=[{"id": "shout", "type": "transform", "config": {"value": "{{ upper(input.x) }}"}}]
    )
    response = await http.post(
        f"{API}/workflows", json={"definition": body}, headers=editor.headers
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["path"], error["code"]) == ("/nodes/0/config/value", "unknown_function")
    assert "upper()" in error["message"]


async def test_definition_over_the_size_limit_is_422(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    body = definition(description="x" * 300_000)
    response = await http.post(
        f"{API}/workflows", json={"definition": body}, headers=editor.headers
    )
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == ["too_large"]


async def test_same_name_for_one_owner_is_409_but_free_for_others(
    http: httpx.AsyncClient, editor: Actor, other_editor: Actor
) -> None:
    body = definition()
    await create_workflow(http, editor, body)
    again = await http.post(f"{API}/workflows", json={"definition": body}, headers=editor.headers)
    assert again.status_code == 409
    assert body["name"] in again.json()["detail"]
    await create_workflow(http, other_editor, body)


async def test_deleting_frees_the_name(http: httpx.AsyncClient, editor: Actor) -> None:
    body = definition()
    created = await create_workflow(http, editor, body)
    gone = await http.delete(f"{API}/workflows/{created['id']}", headers=editor.headers)
    assert gone.status_code == 204
    assert (
        await http.get(f"{API}/workflows/{created['id']}", headers=editor.headers)
    ).status_code == 404
    await create_workflow(http, editor, body)


async def test_list_is_paginated_newest_first(http: httpx.AsyncClient, editor: Actor) -> None:
    ids = [(await create_workflow(http, editor))["id"] for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await http.get(f"{API}/workflows", params=params, headers=editor.headers)).json()
        assert len(page["items"]) <= 2
        seen += [w["id"] for w in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


async def test_page_size_is_bounded(http: httpx.AsyncClient, editor: Actor) -> None:
    for limit in (0, 201):
        response = await http.get(
            f"{API}/workflows", params={"limit": limit}, headers=editor.headers
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["path"] == "/query/limit"


async def test_garbage_cursor_is_400(http: httpx.AsyncClient, editor: Actor) -> None:
    response = await http.get(
        f"{API}/workflows", params={"cursor": "bm90LWpzb24"}, headers=editor.headers
    )
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


async def test_admin_lists_everyones_workflows(
    http: httpx.AsyncClient, admin: Actor, editor: Actor
) -> None:
    created = await create_workflow(http, editor)
    page = (await http.get(f"{API}/workflows", params={"limit": 200}, headers=admin.headers)).json()
    assert created["id"] in [w["id"] for w in page["items"]]


async def test_update_creates_a_new_version(http: httpx.AsyncClient, editor: Actor) -> None:
    created = await create_workflow(http, editor)
    changed = definition(name=created["name"], description="v2")
    response = await http.put(
        f"{API}/workflows/{created['id']}", json={"definition": changed}, headers=editor.headers
    )
    assert response.status_code == 200
    assert (response.json()["version"], response.json()["active_version"]) == (2, 2)
    assert (response.json()["new_version"], response.json()["renamed_from"]) == (True, None)
    read = (await http.get(f"{API}/workflows/{created['id']}", headers=editor.headers)).json()
    assert read["definition"] == changed
    assert read["description"] == "v2"


async def test_an_update_that_renames_says_so(http: httpx.AsyncClient, editor: Actor) -> None:
    created = await create_workflow(http, editor)
    renamed = definition(name=f"{created['name']}-renamed")
    response = await http.put(
        f"{API}/workflows/{created['id']}", json={"definition": renamed}, headers=editor.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == renamed["name"]
    assert response.json()["renamed_from"] == created["name"]


async def test_update_with_activate_false_keeps_the_active_version(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    original = definition()
    created = await create_workflow(http, editor, original)
    changed = definition(name=original["name"], description="draft")
    response = await http.put(
        f"{API}/workflows/{created['id']}",
        params={"activate": "false"},
        json={"definition": changed},
        headers=editor.headers,
    )
    assert (response.json()["version"], response.json()["active_version"]) == (2, 1)
    read = (await http.get(f"{API}/workflows/{created['id']}", headers=editor.headers)).json()
    assert read["definition"] == original


async def test_repeating_an_update_adds_no_version(http: httpx.AsyncClient, editor: Actor) -> None:
    created = await create_workflow(http, editor)
    changed = definition(name=created["name"], description="v2")
    for _ in range(2):
        response = await http.put(
            f"{API}/workflows/{created['id']}", json={"definition": changed}, headers=editor.headers
        )
        assert response.json()["version"] == 2
    assert response.json()["new_version"] is False


async def test_update_to_a_taken_name_is_409(http: httpx.AsyncClient, editor: Actor) -> None:
    first = await create_workflow(http, editor)
    second = await create_workflow(http, editor)
    response = await http.put(
        f"{API}/workflows/{second['id']}",
        json={"definition": definition(name=first["name"])},
        headers=editor.headers,
    )
    assert response.status_code == 409


async def test_invalid_update_is_422_and_changes_nothing(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    created = await create_workflow(http, editor)
    response = await http.put(
        f"{API}/workflows/{created['id']}",
        json={"definition": {"name": "x", "nodes": [{"id": "Bad Id", "type": "transform"}]}},
        headers=editor.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"].startswith("/nodes/0")
    read = (await http.get(f"{API}/workflows/{created['id']}", headers=editor.headers)).json()
    assert read["version"] == 1


async def test_unknown_workflow_is_404(http: httpx.AsyncClient, editor: Actor) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    response = await http.get(f"{API}/workflows/{missing}", headers=editor.headers)
    assert response.status_code == 404
    assert missing in response.json()["detail"]
    malformed = await http.get(f"{API}/workflows/not-a-uuid", headers=editor.headers)
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["path"] == "/path/workflow_id"


def _refs(base: str) -> list[tuple[dict[str, Any], str]]:
    """Schemas that would make a validator fetch something, and the pointer that names it."""
    return [
        ({"properties": {"x": {"$ref": f"{base}/schema.json"}}}, "/properties/x/$ref"),
        ({"properties": {"x": {"$ref": "file:///etc/hostname"}}}, "/properties/x/$ref"),
        ({"items": {"$dynamicRef": f"{base}/schema.json#meta"}}, "/items/$dynamicRef"),
        ({"$schema": f"{base}/meta"}, "/$schema"),
        (
            {"$id": f"{base}/root.json", "properties": {"x": {"$ref": "other.json"}}},
            "/properties/x/$ref",
        ),
    ]


def _holding(place: str, schema: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A definition with ``schema`` in ``place``, and the schema's JSON pointer in it."""
    if place == "input_schema":
        return definition(input_schema=schema), "/input_schema"
    config: dict[str, Any] = (
        {"signal": "go", "schema": schema}
        if place == "wait_for_signal"
        else {"data": "{{ input }}", "schema": schema}
    )
    return definition(
        nodes=[{"id": "n", "type": place, "config": config}]
    ), "/nodes/0/config/schema"


@pytest.mark.parametrize("place", ["input_schema", "wait_for_signal", "validate"])
async def test_a_schema_cannot_make_the_api_fetch_a_reference(
    http: httpx.AsyncClient, editor: Actor, peer: Peer, place: str
) -> None:
    for path in ("/schema.json", "/meta", "/root.json", "/other.json"):
        peer.route(path, Reply(body={"type": "string"}, delay=5.0))
    for schema, where in _refs(peer.url):
        body, at = _holding(place, schema)
        save = http.post(f"{API}/workflows", json={"definition": body}, headers=editor.headers)
        slowest, response = await slowest_health_check(http, save)

        assert response.status_code == 422, response.text
        issues = {(e["path"], e["code"]): e["message"] for e in response.json()["errors"]}
        assert (at + where, "invalid_schema") in issues, issues
        message = issues[(at + where, "invalid_schema")]
        expected = "meta-schema" if where == "/$schema" else "only local references (#...)"
        assert expected in message
        assert slowest < 1.0
    assert peer.requests == []


async def test_local_references_and_the_built_in_meta_schema_are_allowed(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://flowforge.invalid/lead.json",
        "$defs": {"tag": {"type": "string"}},
        "properties": {
            "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}},
            "spec": {"$ref": "https://json-schema.org/draft/2020-12/schema"},
        },
    }
    for place in ("input_schema", "wait_for_signal", "validate"):
        body, _ = _holding(place, schema)
        await create_workflow(http, editor, body)


async def test_a_wait_of_99999999_days_is_refused_at_save_with_its_pointer(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    body = definition(nodes=[{"id": "hold", "type": "wait", "config": {"duration": "99999999d"}}])
    response = await http.post(
        f"{API}/workflows", json={"definition": body}, headers=editor.headers
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["path"], error["code"]) == ("/nodes/0/config/duration", "over_limit")
    assert "FLOWFORGE_QUOTA_MAX_WAIT" in error["message"]


async def test_max_attempts_over_the_cap_is_refused_at_save_wherever_it_is(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    body = definition(
        nodes=[
            {"id": "a", "type": "log", "config": {"message": "x"}, "retry": {"max_attempts": 50}},
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": "[1, 2]",
                    "body": {
                        "nodes": [
                            {
                                "id": "inner",
                                "type": "log",
                                "config": {"message": "y"},
                                "retry": {"max_attempts": 21},
                            }
                        ]
                    },
                },
            },
        ],
        defaults={"retry": {"max_attempts": 1000}},
    )
    response = await http.post(
        f"{API}/workflows", json={"definition": body}, headers=editor.headers
    )
    assert response.status_code == 422, response.text
    errors = {e["path"]: e for e in response.json()["errors"]}
    assert set(errors) == {
        "/defaults/retry/max_attempts",
        "/nodes/0/retry/max_attempts",
        "/nodes/1/config/body/nodes/0/retry/max_attempts",
    }
    assert "FLOWFORGE_RUN_MAX_ATTEMPTS_CAP" in errors["/nodes/0/retry/max_attempts"]["message"]
    capped = {"id": "a", "type": "log", "config": {"message": "x"}, "retry": {"max_attempts": 20}}
    at_cap = definition(nodes=[capped])
    await create_workflow(http, editor, at_cap)

"""Input no route can store: NUL characters, lone surrogates, deep nesting, huge headers.

Each is refused through the real API with the place named, before anything
is stored, and without a 500.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from app.settings import Settings
from app.triggers.hook_signature import sign
from tests.support.api import API, Actor, create_workflow, definition

NUL = "\x00"
SURROGATE = "\ud800"


def _nested(depth: int, leaf: str = "1") -> str:
    """JSON of ``depth`` arrays one inside the other."""
    return "[" * depth + leaf + "]" * depth


async def _post_raw(
    http: httpx.AsyncClient, url: str, body: str | bytes, headers: dict[str, str]
) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    sent = {**headers, "Content-Type": "application/json"}
    return await http.post(url, content=content, headers=sent)


async def _post_json(
    http: httpx.AsyncClient, url: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    """POST ``body`` as ASCII JSON: httpx's own encoding cannot carry a lone surrogate."""
    return await _post_raw(http, url, json.dumps(body), headers)


def _refused(response: httpx.Response, status: int, path: str, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert [(e["path"], e["code"]) for e in body["errors"]] == [(path, code)]
    assert path in body["detail"]


async def _workflow_names(http: httpx.AsyncClient, actor: Actor) -> list[str]:
    listed = (await http.get(f"{API}/workflows", headers=actor.headers)).json()
    return [item["name"] for item in listed["items"]]


async def test_a_nul_or_lone_surrogate_in_a_workflow_is_refused_and_not_stored(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    url_node = {"id": "get", "type": "http", "config": {"url": "https://a.example/" + NUL}}
    cases: list[tuple[dict[str, Any], str, str]] = [
        (definition(name="bad" + NUL), "/body/definition/name", "nul_character"),
        (definition(description="d" + NUL), "/body/definition/description", "nul_character"),
        (definition(nodes=[url_node]), "/body/definition/nodes/0/config/url", "nul_character"),
        (
            definition(nodes=[{**url_node, "config": {"url": "https://a.example/" + SURROGATE}}]),
            "/body/definition/nodes/0/config/url",
            "lone_surrogate",
        ),
    ]
    for body, path, code in cases:
        for route in ("/workflows", "/workflows/validate"):
            response = await _post_json(http, f"{API}{route}", {"definition": body}, editor.headers)
            _refused(response, 422, path, code)
    nul = await http.post(
        f"{API}/workflows", json={"definition": cases[0][0]}, headers=editor.headers
    )
    assert "PostgreSQL cannot store" in nul.json()["errors"][0]["message"]
    assert await _workflow_names(http, editor) == []

    # Updating a stored workflow is refused the same way, and leaves it as it was.
    stored = await create_workflow(http, editor)
    update = await http.put(
        f"{API}/workflows/{stored['id']}",
        json={"definition": definition(name=stored["name"], description=NUL)},
        headers=editor.headers,
    )
    _refused(update, 422, "/body/definition/description", "nul_character")
    again = (await http.get(f"{API}/workflows/{stored['id']}", headers=editor.headers)).json()
    assert again["version"] == stored["version"]


async def test_a_nul_in_a_key_a_query_or_the_path_is_refused(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    keyed = definition(nodes=[{"id": "t", "type": "transform", "config": {"value": {NUL: 1}}}])
    response = await http.post(
        f"{API}/workflows", json={"definition": keyed}, headers=editor.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["path"] == "/body/definition/nodes/0/config/value/\\u0000"
    assert response.json()["errors"][0]["message"].startswith("key ")
    query = await http.get(f"{API}/workflows", params={"cursor": NUL}, headers=editor.headers)
    _refused(query, 422, "/query/cursor", "nul_character")
    path = await http.get(f"{API}/workflows/a%00b", headers=editor.headers)
    _refused(path, 422, "/path", "nul_character")
    login = await http.post(f"{API}/auth/token", data={"username": "a" + NUL, "password": "x"})
    _refused(login, 422, "/body/username", "nul_character")


async def test_not_finite_numbers_are_refused(http: httpx.AsyncClient, editor: Actor) -> None:
    body = '{"definition": {"name": "n", "nodes": [], "x": NaN, "y": 1e999}}'
    response = await _post_raw(http, f"{API}/workflows", body, editor.headers)
    assert response.status_code == 422, response.text
    assert [(e["path"], e["code"]) for e in response.json()["errors"]] == [
        ("/body/definition/x", "not_finite"),
        ("/body/definition/y", "not_finite"),
    ]


async def test_a_nul_in_an_api_key_or_template_name_is_refused_and_not_stored(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    key = await http.post(f"{API}/api-keys", json={"name": "ci" + NUL}, headers=editor.headers)
    _refused(key, 422, "/body/name", "nul_character")
    listed = (await http.get(f"{API}/api-keys", headers=editor.headers)).json()
    assert listed["items"] == []

    template = await http.post(
        f"{API}/templates",
        json={"name": "t" + NUL, "definition": definition()},
        headers=editor.headers,
    )
    _refused(template, 422, "/body/name", "nul_character")
    templates = (await http.get(f"{API}/templates?limit=200", headers=editor.headers)).json()
    assert [t for t in templates["items"] if t["name"].startswith("t\\u")] == []


async def _runs_of(http: httpx.AsyncClient, actor: Actor, workflow_id: str) -> list[Any]:
    listed = await http.get(
        f"{API}/runs", params={"workflow_id": workflow_id}, headers=actor.headers
    )
    assert listed.status_code == 200, listed.text
    items: list[Any] = listed.json()["items"]
    return items


async def test_bad_run_input_is_refused_and_no_run_starts(
    http: httpx.AsyncClient, editor: Actor, settings: Settings
) -> None:
    workflow = await create_workflow(http, editor)
    url = f"{API}/workflows/{workflow['id']}/runs"
    surrogate = await _post_json(http, url, {"input": {"who": SURROGATE}}, editor.headers)
    _refused(surrogate, 422, "/body/input/who", "lone_surrogate")
    nul = await http.post(url, json={"input": {"list": ["ok", NUL]}}, headers=editor.headers)
    _refused(nul, 422, "/body/input/list/1", "nul_character")

    deep = await _post_raw(http, url, '{"input": ' + _nested(900) + "}", editor.headers)
    limit = settings.max_json_depth
    _refused(deep, 400, "/body/input" + "/0" * (limit - 1), "too_deep")
    assert "FLOWFORGE_MAX_JSON_DEPTH" in deep.json()["errors"][0]["message"]
    assert await _runs_of(http, editor, workflow["id"]) == []

    # The body at the limit (the outer object counts as one level) gets through.
    at_limit = await _post_raw(http, url, '{"input": ' + _nested(limit - 1) + "}", editor.headers)
    assert at_limit.status_code == 202, at_limit.text


async def test_a_body_nested_20000_deep_is_refused_quickly_on_every_route(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    body = _nested(20_000)
    for route in ("/workflows", "/workflows/validate", "/api-keys", "/templates"):
        began = time.perf_counter()
        response = await _post_raw(http, f"{API}{route}", body, editor.headers)
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["code"] == "too_deep"
        assert time.perf_counter() - began < 1.0
    # Brackets inside strings are text, not nesting.
    brackets = [{"id": "t", "type": "transform", "config": {"value": "[" * 20_000}}]
    text = json.dumps({"definition": definition(nodes=brackets)})
    assert (await _post_raw(http, f"{API}/workflows", text, editor.headers)).status_code == 201


async def test_a_hook_body_with_a_lone_surrogate_or_nested_20000_deep_starts_no_run(
    http: httpx.AsyncClient, editor: Actor, settings: Settings
) -> None:
    workflow = await create_workflow(http, editor)
    hook = (
        await http.post(f"{API}/workflows/{workflow['id']}/webhooks", headers=editor.headers)
    ).json()
    url = httpx.URL(hook["url"]).path
    bodies = {
        '{"lead": "\\ud800"}': (422, "/body/lead", "lone_surrogate"),
        '{"lead": "a\\u0000"}': (422, "/body/lead", "nul_character"),
        _nested(20_000): (400, "/body" + "/0" * settings.max_json_depth, "too_deep"),
    }
    for text, (status, path, code) in bodies.items():
        body = text.encode()
        began = time.perf_counter()
        # No content type either: the receiver parses any body as JSON.
        response = await http.post(
            url, content=body, headers={"X-Signature": sign(hook["secret"], body)}
        )
        assert time.perf_counter() - began < 1.0
        _refused(response, status, path, code)
    assert await _runs_of(http, editor, workflow["id"]) == []


async def test_headers_over_the_limit_are_431(
    http: httpx.AsyncClient, editor: Actor, settings: Settings
) -> None:
    filler = {f"x-filler-{i}": "f" * 1000 for i in range(settings.max_header_bytes // 1000 + 1)}
    response = await http.get(f"{API}/workflows", headers={**editor.headers, **filler})
    assert response.status_code == 431
    assert str(settings.max_header_bytes) in response.json()["detail"]
    fine = await http.get(f"{API}/workflows", headers={**editor.headers, "x-filler": "f" * 1000})
    assert fine.status_code == 200


@pytest.mark.parametrize("header", ["Idempotency-Key"])
async def test_a_nul_in_a_header_is_refused(
    http: httpx.AsyncClient, editor: Actor, header: str
) -> None:
    workflow = await create_workflow(http, editor)
    response = await http.post(
        f"{API}/workflows/{workflow['id']}/runs",
        json={},
        headers={**editor.headers, header: "k\x00"},
    )
    _refused(response, 422, f"/header/{header.lower()}", "nul_character")

"""Templates: built-in and saved ones, instantiated into workflows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.db.models.template import TemplateParameter
from app.templates.builtin import builtin_templates
from app.templates.params import declaration_errors, parameter_values, placeholders, substitute
from tests.support.api import API, Actor, create_workflow, definition

BUILTIN_PARAMETERS = {
    "enrich-users": {
        "users_api": "https://users.example.com",
        "hook_url": "https://hooks.example.com/x",
    },
    "expense-approval": {"payouts_url": "https://pay.example.com/payouts"},
    "order-fulfilment": {
        "inventory_api": "https://inv.example.com",
        "payments_api": "https://pay.example.com",
    },
}


def test_substitution_keeps_cel_holes_and_native_values() -> None:
    template = {
        "url": "${param.base}/users/{{ input.id }}",
        "limit": "${param.limit}",
        "secret": "{{ secrets.${param.key} }}",
        "literal": "$${param.base} stays",
        "list": ["${param.limit}", {"${param.base}": "keys are left alone"}],
    }
    assert placeholders(template) == {"base", "limit", "key"}
    values = {"base": "https://api.example.com", "limit": 5, "key": "token"}
    assert substitute(template, values) == {
        "url": "https://api.example.com/users/{{ input.id }}",
        "limit": 5,
        "secret": "{{ secrets.token }}",
        "literal": "${param.base} stays",
        "list": [5, {"${param.base}": "keys are left alone"}],
    }
    assert substitute("n=${param.limit}", values) == "n=5"


def test_parameter_values_and_declarations() -> None:
    declared = [
        TemplateParameter(name="base", required=True, description="the API"),
        TemplateParameter(name="limit", default=10),
    ]
    assert parameter_values(declared, {"base": "x"}) == ({"base": "x", "limit": 10}, [])
    _, errors = parameter_values(declared, {"other": 1})
    assert {(e.path, e.code) for e in errors} == {
        ("/body/parameters/other", "unknown_parameter"),
        ("/body/parameters/base", "missing_parameter"),
    }
    problems = declaration_errors({"a": "${param.base} ${param.nope}"}, [*declared, declared[1]])
    assert [e.code for e in problems] == ["duplicate_parameter", "undeclared_parameter"]


@pytest.mark.parametrize("template", builtin_templates(), ids=lambda t: t.name)
def test_every_builtin_declares_what_it_uses(template: Any) -> None:
    parameters = [TemplateParameter.model_validate(p) for p in template.parameters]
    assert declaration_errors(template.definition, parameters) == []
    assert placeholders(template.definition) == {p.name for p in parameters}
    assert "127.0.0.1" not in str(template.definition)


async def test_builtins_are_listed_and_instantiate_into_valid_workflows(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    listed = (await http.get(f"{API}/templates?limit=200", headers=editor.headers)).json()["items"]
    builtins = {t["name"]: t for t in listed if t["builtin"]}
    assert set(builtins) == set(BUILTIN_PARAMETERS)
    for name, values in BUILTIN_PARAMETERS.items():
        template = builtins[name]
        response = await http.post(
            f"{API}/templates/{template['id']}/instantiate",
            json={"name": f"{name}-{editor.username}", "parameters": values},
            headers=editor.headers,
        )
        assert response.status_code == 201, response.text
        workflow = (
            await http.get(f"{API}/workflows/{response.json()['id']}", headers=editor.headers)
        ).json()
        assert workflow["name"] == f"{name}-{editor.username}"
        assert "${param." not in str(workflow["definition"])
        assert next(iter(values.values())) in str(workflow["definition"])
    detail = (
        await http.get(f"{API}/templates/{builtins['enrich-users']['id']}", headers=editor.headers)
    ).json()
    assert (
        detail["definition"]["nodes"][3]["config"]["secret"] == "{{ secrets.${param.hook_secret} }}"
    )


async def test_instantiation_refusals(http: httpx.AsyncClient, editor: Actor) -> None:
    listed = (await http.get(f"{API}/templates", headers=editor.headers)).json()["items"]
    expense = next(t for t in listed if t["name"] == "expense-approval")
    url = f"{API}/templates/{expense['id']}/instantiate"
    missing = await http.post(url, json={"name": "x"}, headers=editor.headers)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["path"] == "/body/parameters/payouts_url"
    unknown = await http.post(
        url,
        json={"name": "x", "parameters": {"payouts_url": "https://a.example", "z": 1}},
        headers=editor.headers,
    )
    assert [e["code"] for e in unknown.json()["errors"]] == ["unknown_parameter"]
    # A value that makes the definition invalid is caught by the interpreter's validator.
    invalid = await http.post(
        url,
        json={"name": "x", "parameters": {"payouts_url": "{{ nope.x }}"}},
        headers=editor.headers,
    )
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["path"].startswith("/nodes/2")
    ok = {"name": f"dup-{editor.username}", "parameters": {"payouts_url": "https://a.example"}}
    assert (await http.post(url, json=ok, headers=editor.headers)).status_code == 201
    assert (await http.post(url, json=ok, headers=editor.headers)).status_code == 409


async def test_saving_a_definition_or_a_workflow_as_a_template(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    body = definition(
        nodes=[{"id": "greet", "type": "transform", "config": {"value": "hi ${param.who}"}}]
    )
    saved = await http.post(
        f"{API}/templates",
        json={
            "name": "greeter",
            "definition": body,
            "parameters": [{"name": "who", "default": "you"}],
        },
        headers=editor.headers,
    )
    assert saved.status_code == 201, saved.text
    template = saved.json()
    assert (template["builtin"], template["owner_id"]) == (False, editor.id)
    made = await http.post(
        f"{API}/templates/{template['id']}/instantiate",
        json={"name": f"greeter-{editor.username}"},
        headers=editor.headers,
    )
    workflow = (
        await http.get(f"{API}/workflows/{made.json()['id']}", headers=editor.headers)
    ).json()
    assert workflow["definition"]["nodes"][0]["config"]["value"] == "hi you"

    source = await create_workflow(http, editor)
    from_workflow = await http.post(
        f"{API}/templates",
        json={"name": "copy", "workflow_id": source["id"]},
        headers=editor.headers,
    )
    assert from_workflow.status_code == 201
    assert from_workflow.json()["definition"]["name"] == source["name"]

    undeclared = await http.post(
        f"{API}/templates", json={"name": "bad", "definition": body}, headers=editor.headers
    )
    assert undeclared.status_code == 422
    assert undeclared.json()["errors"][0]["code"] == "undeclared_parameter"
    both = await http.post(
        f"{API}/templates",
        json={"name": "bad", "definition": body, "workflow_id": source["id"]},
        headers=editor.headers,
    )
    assert both.status_code == 422
    broken = {**body, "nodes": [{"id": "Bad Id", "type": "transform"}]}
    invalid = await http.post(
        f"{API}/templates", json={"name": "bad", "definition": broken}, headers=editor.headers
    )
    assert invalid.status_code == 422

    assert (
        await http.delete(f"{API}/templates/{template['id']}", headers=editor.headers)
    ).status_code == 204
    assert (
        await http.get(f"{API}/templates/{template['id']}", headers=editor.headers)
    ).status_code == 404


async def test_others_get_404_viewers_403_builtins_stay(
    http: httpx.AsyncClient, editor: Actor, other_editor: Actor, viewer: Actor, admin: Actor
) -> None:
    body = definition()
    template = (
        await http.post(
            f"{API}/templates", json={"name": "mine", "definition": body}, headers=editor.headers
        )
    ).json()
    tid = template["id"]
    theirs = (await http.get(f"{API}/templates?limit=200", headers=other_editor.headers)).json()[
        "items"
    ]
    assert tid not in {t["id"] for t in theirs}
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/templates/{tid}", None),
        ("POST", f"/templates/{tid}/instantiate", {"name": "x"}),
        ("DELETE", f"/templates/{tid}", None),
    ]
    for method, path, payload in routes:
        response = await http.request(
            method, API + path, json=payload, headers=other_editor.headers
        )
        assert response.status_code == 404, (method, path)
        response = await http.request(method, API + path, json=payload, headers=viewer.headers)
        assert response.status_code == (404 if method == "GET" else 403), (method, path)
    refused = await http.post(
        f"{API}/templates", json={"name": "v", "definition": body}, headers=viewer.headers
    )
    assert refused.status_code == 403
    stranger = await http.post(
        f"{API}/templates",
        json={"name": "s", "workflow_id": (await create_workflow(http, editor))["id"]},
        headers=other_editor.headers,
    )
    assert stranger.status_code == 404
    assert (await http.get(f"{API}/templates/{tid}", headers=admin.headers)).status_code == 200
    builtin = next(t for t in theirs if t["builtin"])
    assert (
        await http.get(f"{API}/templates/{builtin['id']}", headers=viewer.headers)
    ).status_code == 200
    assert (
        await http.delete(f"{API}/templates/{builtin['id']}", headers=admin.headers)
    ).status_code == 403

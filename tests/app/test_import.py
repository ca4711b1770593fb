"""POST /workflows/import: documents in other tools' vocabulary become definitions that save."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import API, Actor, create_workflow

STEPS = {
    "name": "lead-qualification",
    "description": "Score a lead and tell sales",
    "steps": [
        {
            "id": "fetch_lead",
            "type": "HTTP_REQUEST",
            "order": 1,
            "config": {"method": "GET", "url": "https://crm.example.com/leads/{{leadId}}"},
            "retryConfig": {"maxRetries": 2, "backoff": "EXPONENTIAL", "initialDelayMs": 500},
        },
        {
            "id": "fetch_company",
            "type": "HTTP_REQUEST",
            "order": 1,
            "config": {
                "method": "GET",
                "endpoint": "https://crm.example.com/companies/{{companyId}}",
            },
        },
        {
            "id": "score",
            "type": "DATA_TRANSFORM",
            "order": 2,
            "config": {
                "value": {"lead": "{{fetch_lead}}", "size": "{{steps.fetch_company.output}}"}
            },
        },
        {
            "id": "notify",
            "type": "WEBHOOK_CALL",
            "order": 3,
            "config": {"url": "https://hooks.example.com/sales", "body": {"lead": "{{leadId}}"}},
            "timeoutMs": 5000,
        },
    ],
}

GRAPH = {
    "name": "order-sync",
    "nodes": [
        {
            "id": "pull",
            "type": "HTTP_REQUEST",
            "config": {"url": "https://shop.example.com/orders"},
        },
        {"id": "push", "type": "HTTP_REQUEST", "config": {"url": "https://erp.example.com/orders"}},
        {"id": "alert", "type": "echo", "config": {"message": "sync failed"}},
    ],
    "edges": [
        {"source": "pull", "target": "push", "condition": {"type": "ALWAYS"}},
        {"source": "push", "target": "alert", "condition": {"type": "FAILURE"}},
    ],
    "schedule": "*/5 * * * *",
}


async def _import(http: httpx.AsyncClient, actor: Actor, document: dict[str, Any]) -> Any:
    answer = await http.post(
        f"{API}/workflows/import", json={"document": document}, headers=actor.headers
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_steps_with_an_order_become_a_dag_that_saves(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    report = await _import(http, editor, STEPS)

    assert report["valid"], report["errors"]
    definition = report["definition"]
    assert [n["type"] for n in definition["nodes"]] == ["http", "http", "transform", "webhook"]
    assert sorted((e["from"], e["to"]) for e in definition["edges"]) == [
        ("fetch_company", "score"),
        ("fetch_lead", "score"),
        ("score", "notify"),
    ]
    lead, company, score, notify = definition["nodes"]
    assert lead["config"]["url"] == "https://crm.example.com/leads/{{ input.leadId }}"
    assert lead["retry"] == {
        "max_attempts": 3,
        "strategy": "exponential",
        "initial_interval": "500ms",
    }
    assert company["config"]["url"].endswith("{{ input.companyId }}")
    assert score["config"]["value"] == {
        "lead": "{{ nodes.fetch_lead.output }}",
        "size": "{{ nodes.fetch_company.output }}",
    }
    assert notify["config"]["payload"] == {"lead": "{{ input.leadId }}"}
    assert notify["timeout"] == "5000ms"
    notes = "\n".join(report["notes"])
    assert "/steps/0/type: HTTP_REQUEST became http" in notes
    assert "{{leadId}} became {{ input.leadId }}" in notes
    assert "/steps/1/config/endpoint: became url" in notes
    await create_workflow(http, editor, definition)


async def test_nodes_and_edges_with_conditions_map_and_unmapped_parts_are_named(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    report = await _import(http, editor, GRAPH)

    assert report["valid"], report["errors"]
    assert report["definition"]["edges"] == [
        {"from": "pull", "to": "push", "on": "always"},
        {"from": "push", "to": "alert", "on": "failure"},
    ]
    assert report["definition"]["nodes"][2]["type"] == "log"
    assert any(n.startswith("/schedule: not mapped") for n in report["notes"])


async def test_what_cannot_be_converted_comes_back_with_paths_and_hints(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    document = {"steps": [{"id": "x", "type": "SEND_SMS", "order": 1, "config": {}}]}
    report = await _import(http, editor, document)

    assert not report["valid"]
    assert report["definition"]["name"] == "imported-workflow"
    [error] = [e for e in report["errors"] if e["path"] == "/nodes/0/type"]
    assert error["code"] == "unknown_type"
    assert any("/steps/0/type: 'SEND_SMS' not mapped" in n for n in report["notes"])


async def test_a_body_that_is_not_an_object_is_422(http: httpx.AsyncClient, editor: Actor) -> None:
    answer = await http.post(
        f"{API}/workflows/import", json={"document": [1, 2]}, headers=editor.headers
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == "/body/document"

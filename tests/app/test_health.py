"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import httpx

from tests.support.api import API, Actor, create_workflow


async def test_healthz(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_when_everything_answers(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_metrics_count_requests_by_route_template_and_runs_started(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    created = await create_workflow(http, editor)
    await http.get(f"{API}/workflows/{created['id']}", headers=editor.headers)
    await http.get("/api/v1/no/such/route")
    started = await http.post(
        f"{API}/workflows/{created['id']}/runs", json={}, headers=editor.headers
    )
    assert started.status_code == 202
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'flowforge_http_requests_total{method="GET",'
        'route="/api/v1/workflows/{workflow_id}",status="200"}' in text
    )
    assert 'route="unmatched",status="404"' in text
    assert created["id"] not in text.replace(f'workflow_id="{created["id"]}"', "")
    assert (
        f'flowforge_runs_started_total{{trigger="api",workflow_id="{created["id"]}"}} 1.0' in text
    )
    assert "flowforge_http_request_duration_seconds_bucket" in text

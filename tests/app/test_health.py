"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from tests.support.api import API, Actor, create_workflow, make_settings, started

TOKEN = "metrics-token-for-the-test"


def _runs_started(text: str, trigger: str) -> float:
    match = re.search(rf'^flowforge_runs_started_total{{trigger="{trigger}"}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


@pytest.fixture
async def guarded(
    migrated_url: str, temporal_address: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(migrated_url, temporal_address, tmp_path, metrics_token=TOKEN)
    async for client in started(create_app(settings)):
        yield client


async def test_healthz(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_when_everything_answers(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_metrics_count_requests_by_route_template_and_runs_started(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    before = _runs_started((await http.get("/metrics")).text, "api")
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
    # No tenant's identifier on an endpoint anyone may read: runs count by trigger only.
    assert created["id"] not in text
    assert "workflow_id=" not in text
    assert _runs_started(text, "api") == before + 1
    assert "flowforge_http_request_duration_seconds_bucket" in text


async def test_a_metrics_token_closes_the_endpoint_to_everyone_without_it(
    guarded: httpx.AsyncClient,
) -> None:
    anonymous = await guarded.get("/metrics")
    wrong = await guarded.get("/metrics", headers={"Authorization": "Bearer nope"})
    right = await guarded.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert anonymous.status_code == 401
    assert "FLOWFORGE_METRICS_TOKEN" in anonymous.json()["detail"]
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert "flowforge_http_requests_total" in right.text

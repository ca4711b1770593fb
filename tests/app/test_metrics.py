"""Workflow metrics from Temporal visibility and the node stats in each run's memo."""

from __future__ import annotations

from typing import Any

import httpx
from temporalio.worker import Worker

from app.runs.workflow_metrics import percentile
from tests.support.api import API, Actor, create_workflow, definition, run_becomes
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 95) is None
    assert percentile([5], 50) == 5
    values = list(range(1, 101))
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (
        50,
        95,
        100,
    )


async def test_counts_rates_durations_and_node_stats(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, other_editor: Actor, peer: Peer
) -> None:
    # The first call fails once and is retried; later calls succeed at once.
    peer.script("/flaky", [Reply(500), Reply(200, {"ok": True})])
    body = definition(
        nodes=[
            {
                "id": "call",
                "type": "http",
                "config": {"method": "GET", "url": f"{peer.url}/flaky"},
                "retry": {"strategy": "fixed", "max_attempts": 3, "initial_interval": "100ms"},
            },
            {"id": "boom", "type": "fail", "when": "input.fail", "config": {"message": "asked to"}},
        ],
        edges=[{"from": "call", "to": "boom"}],
    )
    workflow = await create_workflow(http, editor, body)
    for fail, ending in ((False, "succeeded"), (False, "succeeded"), (True, "failed")):
        response = await http.post(
            f"{API}/workflows/{workflow['id']}/runs",
            json={"input": {"fail": fail}},
            headers=editor.headers,
        )
        await run_becomes(http, editor, response.json()["run_id"], ending)

    async def settled() -> dict[str, Any] | None:
        response = await http.get(
            f"{API}/workflows/{workflow['id']}/metrics", headers=editor.headers
        )
        assert response.status_code == 200, response.text
        metrics: dict[str, Any] = response.json()
        return metrics if metrics["scanned"] == 3 and metrics["runs"]["running"] == 0 else None

    metrics = await eventually(settled, what="visibility to show the three finished runs")
    assert metrics["runs"] == {
        "total": 3,
        "succeeded": 2,
        "failed": 1,
        "cancelled": 0,
        "running": 0,
        "terminated": 0,
        "timed_out": 0,
    }
    assert metrics["success_rate"] == round(2 / 3, 4)
    durations = metrics["duration_ms"]
    assert 0 <= durations["p50"] <= durations["p95"] <= durations["max"]
    assert metrics["nodes"]["call"] == {
        "failures": 0,
        "retries": 1,
        "p95_ms": metrics["nodes"]["call"]["p95_ms"],
    }
    assert metrics["nodes"]["call"]["p95_ms"] >= 100  # the retry waited 100ms
    assert metrics["nodes"]["boom"]["failures"] == 1
    chart = metrics["timeline"]
    assert chart["bucket"] == "hour"
    assert len(chart["buckets"]) == 24
    assert chart["truncated"] is False
    # All three started within the last two hours (two, should the test cross an hour).
    recent = chart["buckets"][-2:]
    assert sum(b["total"] for b in chart["buckets"]) == sum(b["total"] for b in recent) == 3
    assert sum(b["runs"]["succeeded"] for b in recent) == 2
    assert sum(b["runs"]["failed"] for b in recent) == 1
    now = chart["buckets"][-1]
    assert now["total"] == 0 or 0 <= now["p50_ms"] <= now["p95_ms"]

    minutes = await http.get(
        f"{API}/workflows/{workflow['id']}/metrics",
        params={"bucket": "minute", "buckets": 5},
        headers=editor.headers,
    )
    buckets = minutes.json()["timeline"]["buckets"]
    assert len(buckets) == 5
    assert sum(b["total"] for b in buckets) == 3
    starts = [b["start"] for b in buckets]
    assert starts == sorted(starts)
    for params in ({"bucket": "week"}, {"buckets": 0}, {"buckets": 367}):
        response = await http.get(
            f"{API}/workflows/{workflow['id']}/metrics", params=params, headers=editor.headers
        )
        assert response.status_code == 422

    assert (
        await http.get(f"{API}/workflows/{workflow['id']}/metrics", headers=other_editor.headers)
    ).status_code == 404


async def test_a_workflow_without_runs(
    http: httpx.AsyncClient, editor: Actor, viewer: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    metrics = (
        await http.get(f"{API}/workflows/{workflow['id']}/metrics", headers=editor.headers)
    ).json()
    assert metrics["runs"]["total"] == 0
    assert metrics["success_rate"] is None
    assert metrics["duration_ms"] == {"p50": None, "p95": None, "max": None}
    assert metrics["nodes"] == {}
    assert metrics["scanned"] == 0
    assert {b["total"] for b in metrics["timeline"]["buckets"]} == {0}
    assert (
        await http.get(f"{API}/workflows/{workflow['id']}/metrics", headers=viewer.headers)
    ).status_code == 404

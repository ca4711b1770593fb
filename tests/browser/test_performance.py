"""How fast the dashboard draws big things: a 500-node run, and the runs list over 10,000 runs.

The figures are printed (``pytest -s`` shows them); the assertions are generous
so that a loaded CI machine does not fail them, while a page that got slower
by an order of magnitude does.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from interpreter.contract.client import start_run
from interpreter.contract.run import RunInput, RunMeta
from interpreter.dsl.definition import Definition
from tests.support.browser import sign_in

RUNS = int(os.environ.get("FLOWFORGE_BENCH_RUNS", "500"))
"""Runs the list test starts (10,000 for the figures in docs; Temporal's dev server starts
about 20 a second on two cores, so the suite's default is 500: ten pages of 50)."""
NODES = 500
LOADS = 5
"""Loads of the run page measured: the first (nothing cached yet in the browser) and four more."""
BUDGET_MS = 1000.0
"""The goal the issue sets; figures above it are reported."""
GENEROUS_MS = 10_000.0
"""What fails the test: ten times the goal."""

pytestmark = pytest.mark.slow


def report(what: str, figure_ms: float) -> None:
    verdict = "within" if figure_ms <= BUDGET_MS else "OVER"
    print(
        f"\n[dashboard figures] {what}: {figure_ms:.0f} ms ({verdict} the {BUDGET_MS:.0f} ms goal)"
    )


def wide_definition(name: str) -> dict[str, Any]:
    """500 transform nodes in 10 chains of 50: a graph dagre has to lay out in full."""
    nodes = [{"id": f"n{i:03d}", "type": "transform", "config": {"value": i}} for i in range(NODES)]
    edges = [{"from": f"n{i - 10:03d}", "to": f"n{i:03d}"} for i in range(10, NODES)]
    return {"name": name, "nodes": nodes, "edges": edges}


@pytest.mark.timeout(300)
async def test_the_run_page_of_a_500_node_run(
    page: Any, api: httpx.AsyncClient, worker: Worker
) -> None:
    created = await api.post(
        "/workflows", json={"definition": wide_definition(f"wide-{uuid.uuid4().hex[:8]}")}
    )
    assert created.status_code == 201, created.text
    started = await api.post(f"/workflows/{created.json()['id']}/runs", json={"input": {}})
    run_id = started.json()["run_id"]
    for _ in range(300):
        if (await api.get(f"/runs/{run_id}")).json()["status"] == "succeeded":
            break
        await asyncio.sleep(0.2)
    await sign_in(page)
    page_path = f"/ui/runs/{run_id}"
    figures = [await _drawn_ms(page, page_path, "n499", "succeeded") for _ in range(LOADS)]
    timings = await page.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.name.includes('/api/'))"
        ".map(e => [e.name.split('/api/v1')[1], Math.round(e.startTime), Math.round(e.duration)])"
    )
    layout = await page.evaluate(
        "performance.getEntriesByName('flowforge:layout').map(e => Math.round(e.duration))"
    )
    marks = await page.evaluate(
        "performance.getEntriesByType('mark').filter(e => e.name.startsWith('flowforge:'))"
        ".map(e => [e.name.slice(10), Math.round(e.startTime)])"
    )
    print(f"\n[dashboard figures] last load's page marks (ms since navigation): {marks}")
    print(f"[dashboard figures] last load's API calls (path, start ms, took ms): {timings}")
    print(f"[dashboard figures] last load's graph layouts (ms): {layout}")
    assert await page.locator(".graph [data-node-id]").count() == NODES
    print(f"[dashboard figures] each load (ms): {[round(f) for f in figures]}")
    drawn_ms = statistics.median(figures)
    report(
        f"run page of a {NODES}-node run, load to every node drawn with its status "
        f"(median of {LOADS} loads)",
        drawn_ms,
    )
    assert drawn_ms < GENEROUS_MS


async def _drawn_ms(page: Any, path: str, node_id: str, status: str) -> float:
    """Open ``path`` afresh; ms from navigation until ``node_id`` is drawn ``status``.

    The page itself reads the clock on the first frame that shows the node, so
    the figure holds no round trip to the test.
    """
    await page.goto(path)
    selector = f'.graph [data-node-id="{node_id}"][data-status="{status}"]'
    drawn = await page.wait_for_function(
        "s => document.querySelector(s) && performance.now()",
        arg=selector,
        polling="raf",
        timeout=60_000,
    )
    figure: float = await drawn.json_value()
    return figure


async def _start_many(client: Client, owner: str, workflow_id: str, count: int) -> None:
    """``count`` runs straight through Temporal, on a queue no worker polls: each times out
    after a second, so the list holds closed runs and nothing is left running."""
    definition = Definition.model_validate(
        {
            "name": "many",
            "timeout": "1s",
            "nodes": [{"id": "x", "type": "transform", "config": {"value": 1}}],
        }
    )
    run = RunInput(
        definition=definition, meta=RunMeta(workflow_id=workflow_id, version=1, owner=owner)
    )
    gate = asyncio.Semaphore(64)

    async def one() -> None:
        async with gate:
            await start_run(client, run, id=f"run-{uuid.uuid4().hex}", task_queue="nobody")

    await asyncio.gather(*(one() for _ in range(count)))


@pytest.mark.timeout(900)
async def test_the_runs_list_over_10000_runs(
    page: Any, api: httpx.AsyncClient, client: Client
) -> None:
    me = (await api.get("/auth/me")).json()
    created = await api.post(
        "/workflows",
        json={
            "definition": {
                "name": f"many-{uuid.uuid4().hex[:8]}",
                "nodes": [{"id": "x", "type": "transform", "config": {"value": 1}}],
            }
        },
    )
    assert created.status_code == 201, created.text
    began = time.monotonic()
    await _start_many(client, me["id"], created.json()["id"], RUNS)
    print(f"\n[dashboard figures] started {RUNS} runs in {time.monotonic() - began:.1f} s")
    # The list is timed once every run has timed out: Temporal ending a thousand
    # runs at once would be timed along with it otherwise.
    workflow_id = created.json()["id"]
    for _ in range(600):
        running = await api.get("/runs", params={"workflow_id": workflow_id, "status": "running"})
        if not running.json()["items"]:
            break
        await asyncio.sleep(1)

    await sign_in(page)
    await page.goto("/ui/runs")
    rows = page.locator("table[aria-label='Runs'] tbody tr")
    full = "document.querySelectorAll(\"table[aria-label='Runs'] tbody tr\").length >= 50"
    first = await page.wait_for_function(
        f"() => {full} && performance.now()", polling="raf", timeout=60_000
    )
    first_ms = await first.json_value()
    report(f"runs list over {RUNS}+ runs, load to the first page of 50 drawn", first_ms)

    marker = await rows.first.get_attribute("data-run-id")
    clicked = await page.evaluate("performance.now()")
    await page.get_by_role("button", name="Older runs").click()
    paged = await page.wait_for_function(
        "m => document.querySelector(\"table[aria-label='Runs'] tbody tr\")?.dataset.runId !== m"
        f" && {full} && performance.now()",
        arg=marker,
        polling="raf",
    )
    paged_ms = await paged.json_value() - clicked
    report("runs list, the next page of 50", paged_ms)
    timings = await page.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.name.includes('/api/'))"
        ".map(e => [e.name.split('/api/v1')[1].slice(0, 60), Math.round(e.startTime),"
        " Math.round(e.duration)])"
    )
    print(f"[dashboard figures] the list's API calls (path, start ms, took ms): {timings}")
    assert first_ms < GENEROUS_MS
    assert paged_ms < GENEROUS_MS

"""``make screenshots``: pictures of the main pages for the README, from a real stack.

Skipped unless ``FLOWFORGE_SCREENSHOTS`` names the directory to write to.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from tests.support.browser import node, sign_in
from tests.support.peer import Peer, Reply

TARGET = os.environ.get("FLOWFORGE_SCREENSHOTS")
pytestmark = pytest.mark.skipif(
    not TARGET, reason="set FLOWFORGE_SCREENSHOTS=dir (make screenshots)"
)


def lead_flow(peer: Peer) -> dict[str, Any]:
    return {
        "name": f"lead-routing-{uuid.uuid4().hex[:4]}",
        "description": "Fetch a lead, score it, fan out to carriers",
        "input_schema": {"type": "object", "properties": {"lead_id": {"type": "string"}}},
        "on_failure": "suspend",
        "nodes": [
            {
                "id": "get_lead",
                "type": "http",
                "config": {"method": "GET", "url": f"{peer.url}/lead"},
            },
            {"id": "score", "type": "transform", "config": {"value": {"score": 91}}},
            {
                "id": "is_hot",
                "type": "condition",
                "config": {"all": ["nodes.score.output.score > 80"]},
            },
            {
                "id": "carriers",
                "type": "for_each",
                "config": {
                    "items": "[1, 2, 3, 4, 5]",
                    "body": {
                        "nodes": [
                            {"id": "offer", "type": "transform", "config": {"value": "{{ item }}"}}
                        ]
                    },
                },
            },
            {
                "id": "notify",
                "type": "http",
                "retry": {"strategy": "none"},
                "config": {"method": "POST", "url": f"{peer.url}/notify", "body": {"lead": 1}},
            },
            {"id": "log_cold", "type": "log", "config": {"message": "cold lead"}},
            {"id": "done", "type": "transform", "config": {"value": "ok"}},
        ],
        "edges": [
            {"from": "get_lead", "to": "score"},
            {"from": "score", "to": "is_hot"},
            {"from": "is_hot", "to": "carriers", "when": "nodes.is_hot.output.result"},
            {"from": "is_hot", "to": "log_cold", "when": "!nodes.is_hot.output.result"},
            {"from": "carriers", "to": "notify"},
            {"from": "notify", "to": "done"},
        ],
    }


async def settle(api: httpx.AsyncClient, run_id: str, statuses: set[str]) -> None:
    for _ in range(150):
        if (await api.get(f"/runs/{run_id}")).json()["status"] in statuses:
            return
        await asyncio.sleep(0.2)


async def test_screenshots(page: Any, api: httpx.AsyncClient, worker: Worker, peer: Peer) -> None:
    out = Path(str(TARGET))
    out.mkdir(parents=True, exist_ok=True)
    peer.route("/lead", Reply(200, {"id": "L-1", "country": "US"}))
    peer.route("/notify", Reply(200, {"sent": True}))
    created = (await api.post("/workflows", json={"definition": lead_flow(peer)})).json()
    wid = created["id"]
    for _ in range(4):
        run_id = (
            await api.post(f"/workflows/{wid}/runs", json={"input": {"lead_id": "L-1"}})
        ).json()["run_id"]
        await settle(api, run_id, {"succeeded"})
    peer.route("/notify", Reply(503, {"error": "carrier down"}))
    failing = (await api.post(f"/workflows/{wid}/runs", json={"input": {"lead_id": "L-2"}})).json()[
        "run_id"
    ]
    await settle(api, failing, {"suspended"})

    await sign_in(page)
    await page.get_by_role("cell", name=created["name"]).wait_for()
    await page.wait_for_timeout(800)
    await page.screenshot(path=out / "workflows.png")

    await page.goto(f"/ui/workflows/{wid}")
    await node(page, "carriers").wait_for()
    await page.screenshot(path=out / "workflow-graph.png")
    await page.get_by_role("tab", name="Metrics").click()
    await page.get_by_role("figure", name="Runs by status over time").locator("canvas").wait_for()
    await page.screenshot(path=out / "workflow-metrics.png", full_page=True)

    await page.goto("/ui/workflows/new")
    broken = lead_flow(peer)
    broken["nodes"][4]["config"].pop("url")
    await page.get_by_label("Definition (JSON)").fill(json.dumps(broken, indent=2))
    await page.get_by_role("list", name="Problems").wait_for()
    await page.screenshot(path=out / "editor.png")

    # The Test panel: the fixed draft tried on the real stack, its http calls mocked.
    await page.goto("/ui/workflows/new")
    await page.get_by_label("Definition (JSON)").fill(json.dumps(lead_flow(peer), indent=2))
    await page.locator('[data-validation="valid"]').wait_for()
    panel = page.get_by_role("region", name="Test")
    await panel.get_by_label("Test input (JSON)").fill('{"lead_id": "L-3"}')
    for node_id, answer in (("get_lead", {"id": "L-3", "country": "US"}), ("notify", {"sent": 1})):
        await panel.get_by_label(f"{node_id}: how it answers").select_option("mock")
        mock = {"output": {"status": 200, "headers": {}, "body": answer}}
        await panel.get_by_label(f"Mock of {node_id}").fill(json.dumps(mock))
    await panel.get_by_role("button", name="Run test").click()
    report = panel.get_by_label("Test result")
    await report.locator('[data-test-status="succeeded"]').wait_for(timeout=60_000)
    await panel.scroll_into_view_if_needed()
    await page.screenshot(path=out / "editor-test.png", full_page=True)

    await page.goto("/ui/runs")
    await page.locator("table[aria-label='Runs'] tbody tr").nth(4).wait_for()
    await page.screenshot(path=out / "runs.png")

    await page.goto(f"/ui/runs/{failing}")
    await node(page, "notify", "failed").wait_for()
    await page.get_by_role("button", name="Open notify").click()
    await page.get_by_role("complementary", name="Node notify").wait_for()
    await page.wait_for_timeout(500)
    await page.screenshot(path=out / "run-suspended.png")
    await page.get_by_role("tab", name="Timeline").click()
    await page.screenshot(path=out / "run-timeline.png")

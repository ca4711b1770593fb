"""The editor's Test panel in a real Chromium: a draft run as a test run on the real stack."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from playwright.async_api import expect
from temporalio.worker import Worker

from tests.support.browser import create, node, sign_in, unique
from tests.support.peer import Peer, Reply

LIVE = 60_000
"""How long the panel may take to show a test run's end (ms): it goes through Temporal."""


async def test_a_new_workflows_draft_is_tested_with_its_http_node_mocked(
    page: Any, worker: Worker, peer: Peer
) -> None:
    await sign_in(page)
    await page.get_by_role("link", name="New workflow").click()
    draft = {
        "name": unique("tested"),
        "input_schema": {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "integer"}},
        },
        "nodes": [
            {
                "id": "fetch",
                "type": "http",
                "config": {"url": f"{peer.url}/users/{{{{ input.id }}}}"},
            },
            {
                "id": "name",
                "type": "transform",
                "config": {"value": "{{ nodes.fetch.output.body.name }}"},
            },
        ],
        "edges": [{"from": "fetch", "to": "name"}],
        "output": "{{ nodes.name.output }}",
    }
    await page.get_by_label("Definition (JSON)").fill(json.dumps(draft, indent=2))
    await expect(page.locator('[data-validation="valid"]')).to_be_visible(timeout=LIVE)

    panel = page.get_by_role("region", name="Test")
    await panel.get_by_label("fetch: how it answers").select_option("mock")
    mock = {"output": {"status": 200, "headers": {}, "body": {"name": "Ada"}}}
    await panel.get_by_label("Mock of fetch").fill(json.dumps(mock))

    # An input the definition's input_schema refuses: the API's 422 shows at its path.
    await panel.get_by_label("Test input (JSON)").fill('{"id": "seven"}')
    await panel.get_by_role("button", name="Run test").click()
    refused = panel.get_by_role("list", name="Problems of the input")
    await expect(refused).to_contain_text("/body/input/id", timeout=LIVE)

    await panel.get_by_label("Test input (JSON)").fill('{"id": 7}')
    await panel.get_by_role("button", name="Run test").click()
    report = panel.get_by_label("Test result")
    await expect(report.locator('[data-test-status="succeeded"]')).to_be_visible(timeout=LIVE)
    await expect(refused).to_have_count(0)
    await expect(report.get_by_label("test output")).to_contain_text('"Ada"')

    fetch = report.locator('tr[data-node="fetch"]')
    await expect(fetch.locator('[data-test="mocked"]')).to_be_visible()
    await expect(fetch).to_contain_text(f"{peer.url}/users/7")
    await expect(report.locator('tr[data-node="name"]')).to_contain_text("Ada")

    edge = report.locator('[data-edge="fetch->name"]')
    await expect(edge).to_have_attribute("data-taken", "true")
    await expect(edge).to_contain_text("fetch succeeded, which `on: success` follows")
    assert peer.requests == []

    # The run it started is a run page of its own, though it belongs to no workflow.
    await report.get_by_role("link").click()
    await expect(node(page, "fetch", "succeeded")).to_be_visible(timeout=LIVE)


async def test_a_stored_workflows_draft_runs_one_node_for_real_and_refuses_the_other(
    page: Any, api: httpx.AsyncClient, worker: Worker, peer: Peer
) -> None:
    peer.route("/real", Reply(body={"real": True}))
    stored = await create(
        api,
        {
            "name": unique("stored"),
            "nodes": [{"id": "greet", "type": "transform", "config": {"value": "hi"}}],
        },
    )
    await sign_in(page, f"/ui/workflows/{stored['id']}/edit")
    editor = page.get_by_label("Definition (JSON)")
    await expect(editor).to_have_value(re.compile(r"\"greet\""), timeout=LIVE)
    draft = {
        "name": stored["name"],
        "nodes": [
            {"id": "real", "type": "http", "config": {"url": f"{peer.url}/real"}},
            {"id": "other", "type": "http", "config": {"url": f"{peer.url}/other"}},
        ],
        "edges": [{"from": "real", "to": "other"}],
    }
    await editor.fill(json.dumps(draft, indent=2))
    await expect(page.locator('[data-validation="valid"]')).to_be_visible(timeout=LIVE)

    panel = page.get_by_role("region", name="Test")
    await panel.get_by_label("real: how it answers").select_option("real")
    await panel.get_by_role("button", name="Run test").click()

    report = panel.get_by_label("Test result")
    await expect(report.locator('[data-test-status="failed"]')).to_be_visible(timeout=LIVE)
    await expect(report.locator('tr[data-node="real"] [data-test="ran for real"]')).to_be_visible()
    await expect(report.locator('tr[data-node="real"]')).to_contain_text('"real": true')
    other = report.locator('tr[data-node="other"]')
    await expect(other.locator('[data-test="refused"]')).to_be_visible()
    await expect(other).to_contain_text("NotMocked")
    await expect(report.locator('[data-edge="real->other"]')).to_have_attribute(
        "data-taken", "true"
    )
    assert len(peer.hits("/real")) == 1
    assert peer.hits("/other") == []
    # A draft is tested, not saved: the stored workflow is still its one version.
    assert (await api.get(f"/workflows/{stored['id']}")).json()["version"] == 1

"""The dashboard in a real Chromium against the real API, worker, Temporal and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import httpx
from playwright.async_api import expect
from temporalio.worker import Worker

from tests.support.browser import create, node, sign_in, start, unique
from tests.support.peer import Peer, Reply
from tests.support.workflows import suspending

LIVE = 30_000
"""How long a page may take to show a live change (ms): runs go through Temporal."""


async def test_every_page_answers_with_the_shell_and_a_strict_csp(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        for path in ("/ui", "/ui/workflows/abc", "/ui/runs/run-abc", "/ui/secrets"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert '<script type="module" src="/ui/static/js/app.js">' in response.text
            policy = response.headers["content-security-policy"]
            assert "default-src 'self'" in policy
            assert "unsafe-inline" not in policy
        script = await client.get("/ui/static/js/app.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        assert (await client.get("/", follow_redirects=False)).headers["location"] == "/ui"


async def test_sign_in_keeps_the_token_out_of_urls_and_sign_out_drops_it(page: Any) -> None:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    await page.goto("/ui/runs")
    await page.get_by_label("Username").fill("root-admin")
    await page.get_by_label("Password").fill("wrong password, surely")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("alert").get_by_text("Wrong username, password or key.").wait_for()
    await sign_in(page, "/ui/runs")
    await page.get_by_role("heading", name="Runs").wait_for()
    token = await page.evaluate("sessionStorage.getItem('flowforge.token')")
    assert token
    assert not [u for u in urls if token in u]
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("button", name="Sign in").wait_for()
    assert await page.evaluate("sessionStorage.getItem('flowforge.token')") is None


async def test_create_a_workflow_in_the_editor_after_a_validation_error(
    page: Any, api: httpx.AsyncClient
) -> None:
    await sign_in(page)
    await page.get_by_role("link", name="New workflow").click()
    editor = page.get_by_label("Definition (JSON)")
    name = unique("edited")
    bad: dict[str, Any] = {
        "name": name,
        "nodes": [
            {"id": "greet", "type": "transform", "config": {"value": "hi"}},
            {"id": "broken", "type": "no_such_type", "config": {}},
        ],
        "edges": [{"from": "greet", "to": "broken"}],
    }
    await editor.fill(json.dumps(bad, indent=2))
    problems = page.get_by_role("list", name="Problems")
    await problems.get_by_text("/nodes/1").first.wait_for()
    assert "(node broken)" in await problems.inner_text()
    await node(page, "broken", "invalid").wait_for()
    assert await node(page, "greet").get_attribute("data-status") == "pending"

    bad["nodes"][1] = {"id": "broken", "type": "log", "config": {"message": "fixed"}}
    await editor.fill(json.dumps(bad, indent=2))
    await page.locator('[data-validation="valid"]').wait_for()
    await page.get_by_role("button", name="Create workflow").click()
    await page.get_by_role("heading", name=name).wait_for()
    await node(page, "broken").wait_for()
    listed = (await api.get("/workflows?limit=200")).json()["items"]
    assert name in [w["name"] for w in listed]

    await page.get_by_role("link", name="Workflows", exact=True).click()
    await page.get_by_label("Search workflows").fill(name)
    rows = page.locator("table.list tbody tr")
    await page.get_by_role("link", name=name).wait_for()
    await page.wait_for_function(
        "n => document.querySelectorAll('table.list tbody tr').length === n", arg=1
    )
    assert "v1" in await rows.first.inner_text()


async def test_start_a_run_from_its_form_and_watch_its_nodes_change_live(
    page: Any, api: httpx.AsyncClient, worker: Worker
) -> None:
    workflow = await create(
        api,
        {
            "name": unique("live"),
            "input_schema": {"type": "object", "properties": {"who": {"type": "string"}}},
            "nodes": [
                {"id": "hold", "type": "wait", "config": {"duration": "3s"}},
                {"id": "after", "type": "transform", "config": {"value": "hi {{ input.who }}"}},
            ],
            "edges": [{"from": "hold", "to": "after"}],
            "output": "{{ nodes.after.output }}",
        },
    )
    await sign_in(page, f"/ui/workflows/{workflow['id']}")
    await page.get_by_role("tab", name="Start a run").click()
    await page.get_by_label("who").fill("<b>ada</b>")
    await page.get_by_role("button", name="Start run").click()
    await page.wait_for_url("**/ui/runs/run-*")
    await node(page, "after", "pending").wait_for(timeout=LIVE)
    await node(page, "hold", "waiting").or_(node(page, "hold", "running")).wait_for(timeout=LIVE)
    await node(page, "after", "succeeded").wait_for(timeout=LIVE)
    await page.get_by_role("tab", name="Input and output").click()
    output = page.get_by_label("run output")
    await output.get_by_text("hi <b>ada</b>").wait_for(timeout=LIVE)
    assert await page.locator("b").count() == 0  # rendered as text, never as HTML
    await page.get_by_role("tab", name="Timeline").click()
    await page.locator('.timeline [data-node-id="hold"]').wait_for()


async def test_retry_a_suspended_node_with_an_edited_config(
    page: Any, api: httpx.AsyncClient, worker: Worker, peer: Peer
) -> None:
    peer.route("/charge", Reply(500, {"error": "card declined"}))
    peer.route("/charge2", Reply(200, {"charged": True}))
    workflow = await create(api, {**suspending(peer.url, "shipped"), "name": unique("suspend")})
    run_id = await start(api, workflow["id"])
    await sign_in(page, f"/ui/runs/{run_id}")
    await node(page, "charge", "failed").wait_for(timeout=LIVE)
    await page.get_by_role("button", name="Open charge").click(timeout=LIVE)
    drawer = page.get_by_role("complementary", name="Node charge")
    config = drawer.get_by_label("Config for the retry")
    edited = (await config.input_value()).replace("/charge", "/charge2")
    await config.fill(edited)
    await drawer.get_by_role("button", name="Retry node with this config").click()
    await node(page, "ship", "succeeded").wait_for(timeout=LIVE)
    await node(page, "charge", "succeeded").wait_for(timeout=LIVE)
    assert len(peer.hits("/charge2")) == 1


async def test_pause_and_resume_a_run(page: Any, api: httpx.AsyncClient, worker: Worker) -> None:
    workflow = await create(
        api,
        {
            "name": unique("pausable"),
            "nodes": [
                {"id": "hold", "type": "wait", "config": {"duration": "1h"}},
                {"id": "after", "type": "transform", "config": {"value": "done"}},
            ],
            "edges": [{"from": "hold", "to": "after"}],
        },
    )
    run_id = await start(api, workflow["id"])
    await sign_in(page, f"/ui/runs/{run_id}")
    actions = page.get_by_role("group", name="Run actions")
    await actions.get_by_role("button", name="Pause").click(timeout=LIVE)
    await actions.get_by_role("button", name="Resume").wait_for(timeout=LIVE)
    assert (await api.get(f"/runs/{run_id}")).json()["paused"] is True
    await actions.get_by_role("button", name="Resume").click()
    await actions.get_by_role("button", name="Pause").wait_for(timeout=LIVE)
    assert (await api.get(f"/runs/{run_id}")).json()["paused"] is False
    page.on("dialog", lambda dialog: dialog.accept())
    await actions.get_by_role("button", name="Cancel").click()
    await page.locator('.titlebar [data-status="cancelled"]').wait_for(timeout=LIVE)


async def test_rerun_from_a_node_reuses_what_came_before(
    page: Any, api: httpx.AsyncClient, worker: Worker
) -> None:
    workflow = await create(
        api,
        {
            "name": unique("rerun"),
            "nodes": [
                {"id": "first", "type": "transform", "config": {"value": 1}},
                {"id": "second", "type": "transform", "config": {"value": 2}},
            ],
            "edges": [{"from": "first", "to": "second"}],
        },
    )
    run_id = await start(api, workflow["id"])
    await sign_in(page, f"/ui/runs/{run_id}")
    await node(page, "second", "succeeded").wait_for(timeout=LIVE)
    # By keyboard: a node opens with Enter, its drawer takes the focus and closes with Escape.
    await node(page, "first").focus()
    await page.keyboard.press("Enter")
    first = page.get_by_role("complementary", name="Node first")
    await first.get_by_role("heading", name="Node first").wait_for()
    # The focus moves after the render that opens (or closes) the drawer: wait for it.
    # (expect polls from Playwright's side; a polled string predicate would be eval'd in
    # the page, which its CSP forbids.)
    await expect(first.get_by_role("heading", name="Node first")).to_be_focused()
    await page.keyboard.press("Escape")
    await first.wait_for(state="detached")
    await expect(node(page, "first")).to_be_focused()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    drawer = page.get_by_role("complementary", name="Node second")
    await drawer.get_by_role("button", name="Rerun from second").click()
    await page.wait_for_url(lambda url: run_id not in url, timeout=LIVE)
    await node(page, "second", "succeeded").wait_for(timeout=LIVE)
    await node(page, "first").click()
    await page.get_by_text("output reused from an earlier run").wait_for(timeout=LIVE)


async def test_the_metrics_chart_shows_the_runs(
    page: Any, api: httpx.AsyncClient, worker: Worker
) -> None:
    workflow = await create(
        api,
        {
            "name": unique("measured"),
            "nodes": [{"id": "only", "type": "transform", "config": {"value": 1}}],
        },
    )
    runs = [await start(api, workflow["id"]) for _ in range(3)]
    for run_id in runs:
        for _ in range(100):
            if (await api.get(f"/runs/{run_id}")).json()["status"] == "succeeded":
                break
            await page.wait_for_timeout(200)
    await sign_in(page, f"/ui/workflows/{workflow['id']}")
    await page.get_by_role("tab", name="Metrics").click()
    chart = page.get_by_role("figure", name="Runs by status over time")
    await chart.locator("canvas").wait_for()
    await chart.get_by_text("Runs by status over time: figures").click()
    # The figures the chart draws, as a table (uPlot's own legend is a table too).
    table = chart.get_by_role("table", name="Runs by status over time")
    cells = [
        await row.locator("td").all_inner_texts() for row in await table.locator("tbody tr").all()
    ]
    assert ["3", "0", "0"] in cells  # succeeded, failed, other in the hour of the runs
    figures = page.locator(".figures")
    assert "Success rate" in await figures.inner_text()
    assert "100 %" in await figures.inner_text()


async def test_the_runs_list_filters_on_the_server_and_changes_live(
    page: Any, api: httpx.AsyncClient, worker: Worker
) -> None:
    workflow = await create(
        api,
        {
            "name": unique("listed"),
            "nodes": [
                {"id": "hold", "type": "wait", "config": {"duration": "1h"}},
                {"id": "after", "type": "transform", "config": {"value": "done"}},
            ],
            "edges": [{"from": "hold", "to": "after"}],
        },
    )
    run_id = await start(api, workflow["id"])
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await sign_in(page, f"/ui/runs?workflow_id={workflow['id']}")
    row = page.locator(f'table[aria-label="Runs"] tr[data-run-id="{run_id}"]')
    await row.and_(page.locator('[data-status="running"]')).wait_for(timeout=LIVE)
    await page.get_by_text("Live: updates as runs change.").wait_for(timeout=LIVE)
    cancelled = await api.post(f"/runs/{run_id}/cancel")
    assert cancelled.status_code == 202, cancelled.text
    await row.and_(page.locator('[data-status="cancelled"]')).wait_for(timeout=LIVE)
    # The row changed from the one stream: the list was not read again, nor the run.
    assert sum("/api/v1/runs?" in url for url in requests) == 1
    assert not [url for url in requests if f"/api/v1/runs/{run_id}" in url]

    await page.get_by_label("Failed only").check()
    await page.get_by_text("No runs match.").wait_for(timeout=LIVE)
    assert "failed=true" in [url for url in requests if "/api/v1/runs?" in url][-1]
    assert "failed=1" in page.url

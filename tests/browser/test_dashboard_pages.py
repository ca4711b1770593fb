"""Dashboard pages beyond the basics: child runs, whole values, signals, templates, operations."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from playwright.async_api import expect
from temporalio.worker import Worker

from app.settings import Settings
from tests.support.browser import create, node, sign_in, start, unique

LIVE = 30_000
"""How long a page may take to show a live change (ms): runs go through Temporal."""


async def finished(api: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    """The run once it has succeeded, read through the API."""
    for _ in range(300):
        body: dict[str, Any] = (await api.get(f"/runs/{run_id}")).json()
        if body["status"] == "succeeded":
            return body
        assert body["status"] in ("running", "pending"), body
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


async def test_a_sub_workflow_node_links_to_its_child_run(
    page: Any, api: httpx.AsyncClient, worker: Worker
) -> None:
    child = await create(
        api,
        {
            "name": unique("child"),
            "nodes": [
                {"id": "double", "type": "transform", "config": {"value": "{{ input.n * 2 }}"}}
            ],
            "output": "{{ nodes.double.output }}",
        },
    )
    parent = await create(
        api,
        {
            "name": unique("parent"),
            "nodes": [
                {
                    "id": "call",
                    "type": "sub_workflow",
                    "config": {"workflow_id": child["id"], "input": {"n": 21}},
                }
            ],
            "output": "{{ nodes.call.output }}",
        },
    )
    run_id = await start(api, parent["id"])
    assert (await finished(api, run_id))["output"] == 42
    read = await api.get(f"/runs/{run_id}~call")
    assert read.status_code == 200, read.text
    assert read.json()["dashboard_url"].endswith(f"/ui/runs/{run_id}~call")

    await sign_in(page, f"/ui/runs/{run_id}")
    await node(page, "call", "succeeded").click(timeout=LIVE)
    drawer = page.get_by_role("complementary", name="Node call")
    await drawer.get_by_role("link", name=f"Child run {run_id}/call").click()
    await page.wait_for_url(f"**/ui/runs/{run_id}~call")
    await page.get_by_role("heading", name=f"Run {run_id}/call").wait_for(timeout=LIVE)
    await node(page, "double", "succeeded").wait_for(timeout=LIVE)
    # Its own drawer reads the child's node through the same alias.
    await node(page, "double").click()
    child_drawer = page.get_by_role("complementary", name="Node double")
    await child_drawer.get_by_label("output", exact=True).get_by_text("42").wait_for(timeout=LIVE)
    await page.get_by_role("tab", name="Input and output").click()
    await page.get_by_label("run output").get_by_text("42").wait_for(timeout=LIVE)
    assert not [p for p in page.problems if "404" in p]


async def test_a_batched_for_each_shows_its_progress_and_links_to_each_batch(
    page: Any, api: httpx.AsyncClient, worker: Worker, settings: Settings
) -> None:
    size = settings.run.for_each_batch_size
    items = max(settings.run.for_each_batch_threshold, 2 * size) + 1
    looped = await create(
        api,
        {
            "name": unique("batched"),
            "nodes": [
                {
                    "id": "each",
                    "type": "for_each",
                    "config": {
                        "items": "input.items",
                        "body": {
                            "nodes": [
                                {"id": "sq", "type": "transform", "config": {"value": "{{ item }}"}}
                            ]
                        },
                    },
                }
            ],
        },
    )
    run_id = await start(api, looped["id"], {"items": list(range(items))})
    await finished(api, run_id)

    await sign_in(page, f"/ui/runs/{run_id}")
    each = node(page, "each", "succeeded")
    await each.wait_for(timeout=LIVE)
    badge = f"{items} done / 0 failed / {items}"
    assert badge in (await each.get_attribute("aria-label") or "")
    await expect(each.locator(".node-badge")).to_have_text(badge)
    await each.click()
    batches = page.get_by_role("list", name="Batches of each")
    firsts = [0, size, 2 * size]
    for first in firsts:
        await batches.get_by_role("link", name=f"Items from {first}").wait_for(timeout=LIVE)
    assert await batches.get_by_role("listitem").count() == len(firsts)
    assert (
        await batches.locator(f'[data-run-id="{run_id}/each/{size}"]').get_attribute("data-status")
        == "succeeded"
    )

    await batches.get_by_role("link", name=f"Items from {size}").click()
    await page.wait_for_url(f"**/ui/runs/{run_id}~each~{size}")
    await page.get_by_role("heading", name=f"Run {run_id}/each/{size}").wait_for(timeout=LIVE)
    # A batch's page draws its one node: the loop over its own items.
    batch = node(page, "each", "succeeded")
    await batch.wait_for(timeout=LIVE)
    assert await page.locator(".graph [data-node-id]").count() == 1
    await expect(batch.locator(".node-badge")).to_have_text(f"{size} done / 0 failed / {size}")
    assert not [p for p in page.problems if "404" in p]


async def test_show_the_whole_value_fetches_what_the_run_view_cut(
    page: Any, api: httpx.AsyncClient, worker: Worker
) -> None:
    big = "x" * 40_000 + "THE-END"
    workflow = await create(
        api,
        {
            "name": unique("big"),
            "nodes": [{"id": "copy", "type": "transform", "config": {"value": "{{ input.big }}"}}],
            "output": "{{ nodes.copy.output }}",
        },
    )
    run_id = await start(api, workflow["id"], {"big": big})
    await finished(api, run_id)
    cut = (await api.get(f"/runs/{run_id}")).json()["nodes"]
    assert next(n for n in cut if n["id"] == "copy")["output"]["truncated"] is True

    await sign_in(page, f"/ui/runs/{run_id}")
    await node(page, "copy", "succeeded").click(timeout=LIVE)
    drawer = page.get_by_role("complementary", name="Node copy")
    shown = drawer.get_by_label("output", exact=True)
    await shown.wait_for()
    assert "THE-END" not in await shown.inner_text()
    await drawer.get_by_role("button", name="Show the whole output").click()
    await expect(shown).to_contain_text("THE-END", timeout=LIVE)
    assert big in await shown.inner_text()

    await page.get_by_role("tab", name="Input and output").click()
    output = page.get_by_label("run output")
    await page.get_by_role("button", name="Show the whole run output").click()
    await expect(output).to_contain_text("THE-END", timeout=LIVE)
    assert big in await output.inner_text()


async def test_the_signal_form_sends_a_waiting_node_its_payload(
    page: Any, api: httpx.AsyncClient, worker: Worker
) -> None:
    workflow = await create(
        api,
        {
            "name": unique("approval"),
            "nodes": [
                {
                    "id": "approve",
                    "type": "wait_for_signal",
                    "config": {
                        "signal": "approved",
                        "schema": {
                            "type": "object",
                            "properties": {"by": {"type": "string"}},
                            "required": ["by"],
                        },
                    },
                },
                {
                    "id": "after",
                    "type": "transform",
                    "config": {"value": "approved by {{ nodes.approve.output.by }}"},
                },
            ],
            "edges": [{"from": "approve", "to": "after"}],
            "output": "{{ nodes.after.output }}",
        },
    )
    run_id = await start(api, workflow["id"])
    await sign_in(page, f"/ui/runs/{run_id}")
    await node(page, "approve", "waiting").click(timeout=LIVE)
    drawer = page.get_by_role("complementary", name="Node approve")
    await drawer.get_by_role("heading", name="Signal approved").wait_for()
    payload = drawer.get_by_label("Signal payload (JSON)")
    assert '"by": ""' in await payload.input_value()
    await payload.fill('{"by": "ada"}')
    await drawer.get_by_role("button", name="Send signal approved").click()
    await drawer.get_by_role("status").get_by_text("Signal accepted.").wait_for(timeout=LIVE)
    await node(page, "after", "succeeded").wait_for(timeout=LIVE)
    assert (await finished(api, run_id))["output"] == "approved by ada"


async def test_instantiate_a_template_from_its_form(page: Any, api: httpx.AsyncClient) -> None:
    name = unique("greeter")
    saved = await api.post(
        "/templates",
        json={
            "name": name,
            "description": "Greets whoever it is told to.",
            "definition": {
                "name": "greeter",
                "nodes": [
                    {"id": "greet", "type": "transform", "config": {"value": "hi ${param.who}"}}
                ],
            },
            "parameters": [{"name": "who", "required": True, "description": "whom to greet"}],
        },
    )
    assert saved.status_code == 201, saved.text
    await sign_in(page, "/ui/workflows/new")
    form = page.get_by_role("form", name="From a template")
    await form.get_by_label("Template").select_option(label=name)
    await form.get_by_text("Greets whoever it is told to.").wait_for()
    made = unique("made")
    await form.get_by_label("Workflow name").fill(made)
    await form.get_by_label("who (required)").fill("ada")
    await form.get_by_role("button", name="Create from template").click()
    await page.wait_for_url(lambda url: "/ui/workflows/" in url and not url.endswith("/new"))
    workflow_id = page.url.rstrip("/").rsplit("/", 1)[1]
    workflow = (await api.get(f"/workflows/{workflow_id}")).json()
    assert workflow["name"] == made
    version = (await api.get(f"/workflows/{workflow_id}/versions/1")).json()
    assert version["definition"]["nodes"][0]["config"]["value"] == "hi ada"


async def test_the_operations_pages_load_and_a_secret_is_set_then_deleted(
    page: Any, api: httpx.AsyncClient
) -> None:
    await create(
        api,
        {
            "name": unique("ops"),
            "nodes": [{"id": "a", "type": "transform", "config": {"value": 1}}],
        },
    )
    await sign_in(page, "/ui/circuit-breakers")
    await page.get_by_role("heading", name="Circuit breakers").wait_for()
    for path, heading in (("/ui/schedules", "Schedules"), ("/ui/hooks", "Hooks")):
        await page.goto(path)
        await page.get_by_role("heading", name=heading, exact=True, level=1).wait_for()
        await page.get_by_role("combobox").first.wait_for()  # the workflow to show
    await page.get_by_role("button", name="Add webhook").click()
    await page.get_by_role("button", name="Delete hook").first.wait_for(timeout=LIVE)

    secret = "UI_SMOKE_" + unique("s").replace("-", "_").upper()
    await page.goto("/ui/secrets")
    await page.get_by_role("heading", name="Secrets", exact=True, level=1).wait_for()
    form = page.get_by_role("form", name="Set a secret")
    await form.get_by_label("Secret name").fill(secret)
    await form.get_by_label("Secret value").fill("not shown anywhere")
    await form.get_by_role("button", name="Save secret").click()
    table = page.get_by_role("table", name="Secrets")
    await table.get_by_role("cell", name=secret, exact=True).wait_for(timeout=LIVE)
    assert "not shown anywhere" not in await page.content()
    page.on("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name=f"Delete secret {secret}").click()
    await table.get_by_role("cell", name=secret, exact=True).wait_for(
        state="detached", timeout=LIVE
    )
    names = [s["name"] for s in (await api.get("/secrets?limit=200")).json()["items"]]
    assert secret not in names


async def test_the_schedules_page_shows_a_schedules_version_and_its_rollout(
    page: Any, api: httpx.AsyncClient
) -> None:
    name = unique("rolled")
    one = {"name": name, "nodes": [{"id": "a", "type": "transform", "config": {"value": 1}}]}
    workflow = await create(api, one)
    two = {**one, "nodes": [{"id": "a", "type": "transform", "config": {"value": 2}}]}
    saved = await api.put(f"/workflows/{workflow['id']}?activate=false", json={"definition": two})
    assert saved.status_code == 200, saved.text
    made = await api.post(
        f"/workflows/{workflow['id']}/schedules", json={"interval": "1h", "paused": True}
    )
    assert made.status_code == 201, made.text
    rolled = await api.put(
        f"/workflows/{workflow['id']}/rollout", json={"candidate": 2, "percent": 25}
    )
    assert rolled.status_code == 200, rolled.text
    try:
        await sign_in(page, "/ui/schedules")
        await page.get_by_role("heading", name="Schedules", exact=True, level=1).wait_for()
        await page.get_by_label("Workflow").select_option(workflow["id"])
        table = page.get_by_role("table", name="Schedules")
        await table.get_by_role("cell", name="v1 · 25% to v2").wait_for(timeout=LIVE)
    finally:
        await api.delete(f"/schedules/{made.json()['schedule_id']}")

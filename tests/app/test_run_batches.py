"""What the dashboard reads besides a run's detail: its pinned definition, a for_each's batches."""

from __future__ import annotations

from typing import Any

import httpx
from temporalio.worker import Worker

from app.settings import Settings
from tests.support.api import (
    API,
    Actor,
    create_workflow,
    definition,
    run_becomes,
    run_of,
    start_run,
)
from tests.support.eventually import eventually

BATCHED = definition(
    nodes=[
        {
            "id": "each",
            "type": "for_each",
            "config": {
                "items": "input.items",
                "body": {
                    "nodes": [{"id": "sq", "type": "transform", "config": {"value": "{{ item }}"}}]
                },
            },
        },
        {"id": "after", "type": "transform", "config": {"value": "done"}},
    ],
    edges=[{"from": "each", "to": "after"}],
)
"""``each``: a for_each over the input's items, then ``after``."""


async def batched_run(http: httpx.AsyncClient, actor: Actor, settings: Settings) -> str:
    """A run of :data:`BATCHED` over enough items for three batches; its id."""
    options = settings.run
    items = max(options.for_each_batch_threshold, 2 * options.for_each_batch_size) + 1
    created = await create_workflow(http, actor, {**BATCHED, "name": unique_name()})
    return await start_run(http, actor, created["id"], input={"items": list(range(items))})


def unique_name() -> str:
    return str(definition()["name"])


async def test_a_batched_for_each_lists_its_batch_runs_in_item_order(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, settings: Settings
) -> None:
    run_id = await batched_run(http, editor, settings)
    await run_becomes(http, editor, run_id, "succeeded")
    size = settings.run.for_each_batch_size
    path = f"{API}/runs/{run_id}/nodes/each/batches"

    async def all_listed() -> list[dict[str, Any]] | None:
        response = await http.get(path, headers=editor.headers)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items if len(items) == 3 else None

    batches = await eventually(all_listed, what="the three batches in visibility")
    assert [b["first_item"] for b in batches] == [0, size, 2 * size]
    assert [b["run_id"] for b in batches] == [f"{run_id}/each/{b['first_item']}" for b in batches]
    assert {b["status"] for b in batches} == {"succeeded"}
    assert batches[1]["dashboard_url"].endswith(f"/ui/runs/{run_id}~each~{size}")

    paged = (await http.get(path, params={"limit": 2}, headers=editor.headers)).json()
    assert len(paged["items"]) == 2
    assert paged["next_cursor"]
    rest = await http.get(
        path, params={"limit": 2, "cursor": paged["next_cursor"]}, headers=editor.headers
    )
    assert len(rest.json()["items"]) == 1
    listed = {b["first_item"] for b in paged["items"] + rest.json()["items"]}
    assert listed == {0, size, 2 * size}

    child = (await http.get(f"{API}/runs/{run_id}~each~{size}", headers=editor.headers)).json()
    assert (child["run_id"], child["status"]) == (f"{run_id}/each/{size}", "succeeded")
    # The batch runs its one node's items: the node shows the batch's status.
    (loop,) = child["nodes"]
    assert (loop["id"], loop["status"], loop["progress"]["done"]) == ("each", "succeeded", size)
    inline = await http.get(f"{API}/runs/{run_id}/nodes/after/batches", headers=editor.headers)
    assert inline.json() == {"items": [], "next_cursor": None}


async def test_batches_of_a_node_id_no_definition_allows_are_a_422(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    run_id = await run_of(http, editor, definition())
    response = await http.get(f"{API}/runs/{run_id}/nodes/Bad'Id/batches", headers=editor.headers)
    assert response.status_code == 422, response.text
    assert "node_id" in response.text


async def test_the_pinned_definition_of_a_run_and_of_a_batch(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, make_user: Any, settings: Settings
) -> None:
    run_id = await batched_run(http, editor, settings)
    response = await http.get(f"{API}/runs/{run_id}/definition", headers=editor.headers)
    assert response.status_code == 200, response.text
    pinned = response.json()
    assert pinned["run_id"] == run_id
    assert [n["id"] for n in pinned["definition"]["nodes"]] == ["each", "after"]
    edge = pinned["definition"]["edges"][0]
    assert (edge["from"], edge["to"], edge["on"]) == ("each", "after", "success")

    await run_becomes(http, editor, run_id, "succeeded")
    batch = (
        await http.get(f"{API}/runs/{run_id}~each~0/definition", headers=editor.headers)
    ).json()
    assert batch["run_id"] == f"{run_id}/each/0"
    assert [n["id"] for n in batch["definition"]["nodes"]] == ["each"]

    stranger = await make_user("editor")
    for path in (f"/runs/{run_id}/definition", f"/runs/{run_id}~each~0"):
        hidden = await http.get(f"{API}{path}", headers=stranger.headers)
        assert hidden.status_code == 404, path

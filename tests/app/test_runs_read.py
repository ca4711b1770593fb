"""Reading runs: one in detail, and the list through Temporal visibility."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from tests.support.api import (
    API,
    Actor,
    create_workflow,
    definition,
    run_becomes,
    start_run,
    waiting_definition,
)
from tests.support.eventually import eventually


async def test_finished_run_shows_input_output_and_nodes(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    body = definition(
        nodes=[{"id": "echo", "type": "transform", "config": {"value": "{{ input.who }}"}}],
        output="{{ nodes.echo.output }}",
    )
    created = await create_workflow(http, editor, body)
    run_id = await start_run(http, editor, created["id"], input={"who": "ada"})
    run = await run_becomes(http, editor, run_id, "succeeded")
    assert run["input"] == {"who": "ada"}
    assert run["output"] == "ada"
    assert run["error"] is None
    assert (run["workflow_id"], run["version"], run["owner_id"]) == (created["id"], 1, editor.id)
    assert [(n["id"], n["status"]) for n in run["nodes"]] == [("echo", "succeeded")]
    assert run["started_at"]
    assert run["ended_at"]
    assert run["temporal"]["run_id"]


async def test_failed_run_shows_its_error(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    body = definition(nodes=[{"id": "stop", "type": "fail", "config": {"message": "no luck"}}])
    created = await create_workflow(http, editor, body)
    run_id = await start_run(http, editor, created["id"])
    run = await run_becomes(http, editor, run_id, "failed")
    assert "no luck" in run["error"]["message"]
    assert run["nodes"][0]["status"] == "failed"


async def test_run_id_of_nobody_is_404(http: httpx.AsyncClient, editor: Actor) -> None:
    response = await http.get(f"{API}/runs/run-does-not-exist", headers=editor.headers)
    assert response.status_code == 404
    assert "run-does-not-exist" in response.json()["detail"]


async def _list(http: httpx.AsyncClient, actor: Actor, **params: Any) -> dict[str, Any]:
    response = await http.get(f"{API}/runs", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_list_filters_by_workflow_and_pages_newest_first(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    created = await create_workflow(http, editor, waiting_definition())
    started = [await start_run(http, editor, created["id"]) for _ in range(3)]

    async def all_listed() -> list[str] | None:
        page = await _list(http, editor, workflow_id=created["id"], limit=200)
        ids = [run["run_id"] for run in page["items"]]
        return ids if len(ids) == 3 else None

    assert await eventually(all_listed, what="three runs listed") == list(reversed(started))
    first = await _list(http, editor, workflow_id=created["id"], limit=2)
    assert [r["run_id"] for r in first["items"]] == list(reversed(started))[:2]
    assert first["next_cursor"]
    rest = await _list(
        http, editor, workflow_id=created["id"], limit=2, cursor=first["next_cursor"]
    )
    assert [r["run_id"] for r in rest["items"]] == [started[0]]
    assert rest["next_cursor"] is None
    item = first["items"][0]
    assert (item["status"], item["workflow_id"], item["version"], item["trigger"]) == (
        "running",
        created["id"],
        1,
        "api",
    )


async def test_list_filters_by_status(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    quick = await create_workflow(http, editor)
    slow = await create_workflow(http, editor, waiting_definition())
    done = await start_run(http, editor, quick["id"])
    open_ = await start_run(http, editor, slow["id"])
    await run_becomes(http, editor, done, "succeeded")

    async def ids_with(status: str) -> list[str] | None:
        page = await _list(http, editor, status=status)
        ids = [run["run_id"] for run in page["items"]]
        return ids or None

    assert await eventually(lambda: ids_with("succeeded")) == [done]
    assert await eventually(lambda: ids_with("running")) == [open_]
    assert (await _list(http, editor, status="failed"))["items"] == []


async def test_others_runs_are_not_listed_but_admins_see_all(
    http: httpx.AsyncClient, admin: Actor, editor: Actor, other_editor: Actor
) -> None:
    created = await create_workflow(http, editor, waiting_definition())
    run_id = await start_run(http, editor, created["id"])

    async def admin_sees() -> bool | None:
        page = await _list(http, admin, owner_id=editor.id)
        return True if run_id in [r["run_id"] for r in page["items"]] else None

    await eventually(admin_sees, what="the admin to see the run")
    mine = await _list(http, editor)
    assert [r["run_id"] for r in mine["items"]] == [run_id]
    theirs = await _list(http, other_editor, owner_id=editor.id, workflow_id=created["id"])
    assert theirs["items"] == []


@pytest.mark.parametrize("params", [{"status": "sleeping"}, {"workflow_id": "nope"}, {"limit": 0}])
async def test_bad_list_filters_are_422(
    http: httpx.AsyncClient, editor: Actor, params: dict[str, Any]
) -> None:
    response = await http.get(f"{API}/runs", params=params, headers=editor.headers)
    assert response.status_code == 422
    # status may repeat: its error names the value's index.
    assert response.json()["errors"][0]["path"].removesuffix("/0") == f"/query/{next(iter(params))}"


async def test_bad_run_cursor_is_400(http: httpx.AsyncClient, editor: Actor) -> None:
    response = await http.get(f"{API}/runs", params={"cursor": "Zm9v"}, headers=editor.headers)
    assert response.status_code == 400


async def test_cursor_with_other_filters_is_400(http: httpx.AsyncClient, editor: Actor) -> None:
    created = await create_workflow(http, editor, waiting_definition())
    for _ in range(2):
        await start_run(http, editor, created["id"])

    async def cursor() -> str | None:
        page = await _list(http, editor, workflow_id=created["id"], limit=1)
        next_cursor: str | None = page["next_cursor"]
        return next_cursor

    token = await eventually(cursor, what="a second page")
    response = await http.get(
        f"{API}/runs", params={"cursor": token, "status": "failed"}, headers=editor.headers
    )
    assert response.status_code == 400
    assert "same filters" in response.json()["detail"]

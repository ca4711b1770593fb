"""Every object route, tried by users who do not own the object.

Another owner's editor or viewer gets 404 (ids of others' objects reveal
nothing); a viewer gets 403 for any write; an admin may read everything.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from tests.support.api import API, Actor, create_workflow, definition, waiting_definition

Route = tuple[str, str, dict[str, Any] | None]


@pytest.fixture
async def owned(http: httpx.AsyncClient, worker: Worker, editor: Actor) -> dict[str, str]:
    """A workflow and a live run of it, both the editor's."""
    body = waiting_definition()
    created = await create_workflow(http, editor, body)
    run = await http.post(f"{API}/workflows/{created['id']}/runs", json={}, headers=editor.headers)
    assert run.status_code == 202
    return {"workflow": created["id"], "name": body["name"], "run": run.json()["run_id"]}


def read_routes(ids: dict[str, str]) -> list[Route]:
    wf, run = ids["workflow"], ids["run"]
    return [
        ("GET", f"/workflows/{wf}", None),
        ("GET", f"/workflows/{wf}/versions", None),
        ("GET", f"/workflows/{wf}/versions/1", None),
        ("GET", f"/runs/{run}", None),
    ]


def write_routes(ids: dict[str, str]) -> list[Route]:
    wf, run = ids["workflow"], ids["run"]
    return [
        ("PUT", f"/workflows/{wf}", {"definition": definition(name=ids["name"])}),
        ("DELETE", f"/workflows/{wf}", None),
        ("POST", f"/workflows/{wf}/versions/1/activate", None),
        ("POST", f"/workflows/{wf}/runs", {}),
        ("POST", f"/runs/{run}/pause", None),
        ("POST", f"/runs/{run}/resume", None),
        ("POST", f"/runs/{run}/cancel", None),
        ("POST", f"/runs/{run}/terminate", None),
    ]


async def _call(http: httpx.AsyncClient, actor: Actor, route: Route) -> httpx.Response:
    method, path, body = route
    return await http.request(method, API + path, json=body, headers=actor.headers)


async def test_another_editor_gets_404_everywhere(
    http: httpx.AsyncClient, owned: dict[str, str], other_editor: Actor, editor: Actor
) -> None:
    for route in read_routes(owned) + write_routes(owned):
        response = await _call(http, other_editor, route)
        assert response.status_code == 404, route
        assert "not found" in response.json()["detail"]
    await _assert_untouched(http, editor, owned)


async def test_a_viewer_gets_404_for_reads_and_403_for_writes(
    http: httpx.AsyncClient, owned: dict[str, str], viewer: Actor, editor: Actor
) -> None:
    for route in read_routes(owned):
        assert (await _call(http, viewer, route)).status_code == 404, route
    for route in write_routes(owned):
        response = await _call(http, viewer, route)
        assert response.status_code == 403, route
        assert "viewer" in response.json()["detail"]
    await _assert_untouched(http, editor, owned)


async def test_an_admin_reads_everything(
    http: httpx.AsyncClient, owned: dict[str, str], admin: Actor
) -> None:
    for route in read_routes(owned):
        assert (await _call(http, admin, route)).status_code == 200, route


async def test_an_admin_may_control_others_runs(
    http: httpx.AsyncClient, owned: dict[str, str], admin: Actor
) -> None:
    response = await http.post(f"{API}/runs/{owned['run']}/terminate", headers=admin.headers)
    assert response.status_code == 202


async def test_a_viewer_cannot_create_workflows(http: httpx.AsyncClient, viewer: Actor) -> None:
    response = await http.post(
        f"{API}/workflows", json={"definition": definition()}, headers=viewer.headers
    )
    assert response.status_code == 403


async def _assert_untouched(http: httpx.AsyncClient, owner: Actor, ids: dict[str, str]) -> None:
    workflow = await http.get(f"{API}/workflows/{ids['workflow']}", headers=owner.headers)
    assert workflow.status_code == 200
    assert workflow.json()["version"] == 1
    run = await http.get(f"{API}/runs/{ids['run']}", headers=owner.headers)
    assert run.json()["status"] == "running"

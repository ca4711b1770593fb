"""Pause, resume, cancel and terminate a live run through the API."""

from __future__ import annotations

import httpx
from temporalio.worker import Worker

from tests.support.api import API, Actor, run_becomes, run_of, waiting_definition
from tests.support.eventually import eventually


async def _live_run(http: httpx.AsyncClient, actor: Actor) -> str:
    run_id = await run_of(http, actor, waiting_definition())

    async def holding() -> bool | None:
        run = (await http.get(f"{API}/runs/{run_id}", headers=actor.headers)).json()
        return True if run["nodes"] and run["nodes"][0]["status"] == "waiting" else None

    await eventually(holding, what="the wait node to start")
    return run_id


async def _act(http: httpx.AsyncClient, actor: Actor, run_id: str, action: str) -> httpx.Response:
    return await http.post(f"{API}/runs/{run_id}/{action}", headers=actor.headers)


async def test_pause_resume_cancel(http: httpx.AsyncClient, worker: Worker, editor: Actor) -> None:
    run_id = await _live_run(http, editor)

    resumed_too_early = await _act(http, editor, run_id, "resume")
    assert resumed_too_early.status_code == 409
    assert "running" in resumed_too_early.json()["detail"]

    paused = await _act(http, editor, run_id, "pause")
    assert paused.status_code == 202
    assert paused.json() == {"run_id": run_id, "status": "paused"}
    run = await run_becomes(http, editor, run_id, "paused")
    assert run["paused"] is True
    assert (await _act(http, editor, run_id, "pause")).status_code == 409

    resumed = await _act(http, editor, run_id, "resume")
    assert (resumed.status_code, resumed.json()["status"]) == (202, "running")
    await run_becomes(http, editor, run_id, "running")

    cancelled = await _act(http, editor, run_id, "cancel")
    assert (cancelled.status_code, cancelled.json()["status"]) == (202, "cancelled")
    run = await run_becomes(http, editor, run_id, "cancelled")
    assert run["ended_at"]
    assert {n["id"]: n["status"] for n in run["nodes"]} == {
        "hold": "cancelled",
        "after": "cancelled",
    }
    for action in ("pause", "resume", "cancel", "terminate"):
        late = await _act(http, editor, run_id, action)
        assert late.status_code == 409, action
        assert "cancelled" in late.json()["detail"]


async def test_a_paused_run_can_be_cancelled(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    run_id = await _live_run(http, editor)
    assert (await _act(http, editor, run_id, "pause")).status_code == 202
    await run_becomes(http, editor, run_id, "paused")
    assert (await _act(http, editor, run_id, "cancel")).status_code == 202
    await run_becomes(http, editor, run_id, "cancelled")


async def test_terminate_overrides_what_the_run_reports(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    run_id = await _live_run(http, editor)
    terminated = await _act(http, editor, run_id, "terminate")
    assert (terminated.status_code, terminated.json()["status"]) == (202, "terminated")
    run = await run_becomes(http, editor, run_id, "terminated")
    # The interpreter never saw the end (its own report still says waiting): the
    # API shows the node cancelled and says why the run ended.
    assert run["nodes"][0]["status"] == "cancelled"
    assert run["node_counts"]["waiting"] == 0
    assert run["error"]["type"] == "RunTerminated"
    assert run["ended_at"]
    assert (await _act(http, editor, run_id, "terminate")).status_code == 409


async def test_actions_on_an_unknown_run_are_404(http: httpx.AsyncClient, editor: Actor) -> None:
    for action in ("pause", "resume", "cancel", "terminate"):
        response = await _act(http, editor, "run-nobody", action)
        assert response.status_code == 404


async def test_a_timed_out_run_says_so_and_shows_its_waiting_node_cancelled(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    body = waiting_definition() | {"timeout": "2s"}
    run_id = await run_of(http, editor, body)

    run = await run_becomes(http, editor, run_id, "timed_out")

    assert run["error"]["type"] == "RunTimedOut"
    assert "timeout" in run["error"]["message"]
    statuses = {n["id"]: n["status"] for n in run["nodes"]}
    assert statuses["hold"] == "cancelled"
    assert set(statuses.values()) == {"cancelled"}

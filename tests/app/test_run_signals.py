"""Signals to wait_for_signal nodes through the API, on live runs."""

from __future__ import annotations

from typing import Any

import httpx
from temporalio.worker import Worker

from tests.support.api import API, Actor, definition, node_status, run_becomes, run_of, send_signal
from tests.support.eventually import eventually

APPROVAL_SCHEMA = {
    "type": "object",
    "required": ["approved"],
    "properties": {"approved": {"type": "boolean"}},
}


def approval() -> dict[str, Any]:
    """Waits for ``approval`` (an object with a boolean ``approved``), then pays or rejects."""
    return definition(
        nodes=[
            {
                "id": "decision",
                "type": "wait_for_signal",
                "config": {"signal": "approval", "timeout": "1h", "schema": APPROVAL_SCHEMA},
            },
            {"id": "pay", "type": "transform", "config": {"value": "paid"}},
            {"id": "reject", "type": "transform", "config": {"value": "rejected"}},
        ],
        edges=[
            {"from": "decision", "to": "pay", "when": "nodes.decision.output.approved"},
            {"from": "decision", "to": "reject", "when": "!nodes.decision.output.approved"},
        ],
        output="{{ nodes.decision.output }}",
    )


async def waiting_run(http: httpx.AsyncClient, actor: Actor) -> str:
    """A run of :func:`approval` whose decision node waits for its signal."""
    run_id = await run_of(http, actor, approval())

    async def waiting() -> bool | None:
        return True if await node_status(http, actor, run_id, "decision") == "waiting" else None

    await eventually(waiting, what="the wait_for_signal node to wait")
    return run_id


async def test_an_accepted_signal_lets_the_run_go_on(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    run_id = await waiting_run(http, editor)
    response = await send_signal(http, editor, run_id, "approval", {"approved": True})
    assert response.status_code == 202, response.text
    assert response.json() == {"run_id": run_id, "signal": "approval", "accepted": True}
    run = await run_becomes(http, editor, run_id, "succeeded")
    assert run["output"] == {"approved": True}
    statuses = {n["id"]: n["status"] for n in run["nodes"]}
    assert statuses == {"decision": "succeeded", "pay": "succeeded", "reject": "skipped"}


async def test_a_refused_signal_is_422_and_the_node_keeps_waiting(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    run_id = await waiting_run(http, editor)

    bad_payload = await send_signal(http, editor, run_id, "approval", {"approved": "yes"})
    assert bad_payload.status_code == 422, bad_payload.text
    detail = bad_payload.json()["detail"]
    assert "payload does not match the signal's schema" in detail
    assert "/approved" in detail

    unknown = await send_signal(http, editor, run_id, "nobody", {})
    assert unknown.status_code == 422, unknown.text
    assert "no wait_for_signal node of this run waits for 'nobody'" in unknown.json()["detail"]

    assert await node_status(http, editor, run_id, "decision") == "waiting"
    accepted = await send_signal(http, editor, run_id, "approval", {"approved": False})
    assert accepted.status_code == 202
    run = await run_becomes(http, editor, run_id, "succeeded")
    assert {n["id"]: n["status"] for n in run["nodes"]}["reject"] == "succeeded"


async def test_a_finished_run_takes_no_signal(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    run_id = await run_of(http, editor, definition())
    await run_becomes(http, editor, run_id, "succeeded")
    response = await send_signal(http, editor, run_id, "approval", {"approved": True})
    assert response.status_code == 409, response.text
    assert "succeeded" in response.json()["detail"]

    cancelled = await waiting_run(http, editor)
    assert (await http.post(f"{API}/runs/{cancelled}/cancel", headers=editor.headers)).is_success
    await run_becomes(http, editor, cancelled, "cancelled")
    assert (
        await send_signal(http, editor, cancelled, "approval", {"approved": True})
    ).status_code == 409


async def test_who_may_signal(
    http: httpx.AsyncClient,
    worker: Worker,
    editor: Actor,
    other_editor: Actor,
    viewer: Actor,
    admin: Actor,
) -> None:
    run_id = await waiting_run(http, editor)
    payload = {"approved": True}
    assert (await send_signal(http, other_editor, run_id, "approval", payload)).status_code == 404
    assert (await send_signal(http, viewer, run_id, "approval", payload)).status_code == 403
    assert (await send_signal(http, editor, "run-nobody", "approval", payload)).status_code == 404
    assert await node_status(http, editor, run_id, "decision") == "waiting"
    # An admin may control anyone's run.
    assert (await send_signal(http, admin, run_id, "approval", payload)).status_code == 202
    await run_becomes(http, editor, run_id, "succeeded")


async def test_a_malformed_signal_request_is_422(http: httpx.AsyncClient, editor: Actor) -> None:
    response = await http.post(
        f"{API}/runs/run-nobody/signals/bad name!", json={"payload": 1}, headers=editor.headers
    )
    assert response.status_code == 422
    extra = await http.post(
        f"{API}/runs/run-nobody/signals/approval", json={"data": 1}, headers=editor.headers
    )
    assert extra.status_code == 422

"""Live run events: Server-Sent Events until the run ends, resumable with Last-Event-ID."""

from __future__ import annotations

import json
from typing import Any

import httpx
from temporalio.worker import Worker

from tests.support.api import (
    API,
    Actor,
    create_workflow,
    definition,
    run_becomes,
    run_of,
    start_run,
    waiting_definition,
)
from tests.support.eventually import eventually


def parse(stream: str) -> list[dict[str, Any]]:
    """The events of an SSE body: ``{"id", "event", "data"}`` each (comments skipped)."""
    events = []
    for block in stream.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        if "data" in fields:
            events.append(
                {
                    "id": int(fields["id"]),
                    "event": fields["event"],
                    "data": json.loads(fields["data"]),
                }
            )
    return events


async def _start(http: httpx.AsyncClient, actor: Actor) -> str:
    body = definition(
        nodes=[
            {"id": "hold", "type": "wait", "config": {"duration": "300ms"}},
            {"id": "after", "type": "transform", "config": {"value": "done"}},
        ],
        edges=[{"from": "hold", "to": "after"}],
    )
    return await run_of(http, actor, body)


async def test_events_follow_the_run_to_its_end(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    run_id = await _start(http, editor)
    response = await http.get(f"{API}/runs/{run_id}/events", headers=editor.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse(response.text)
    ids = [e["id"] for e in events]
    assert ids == sorted(set(ids))
    last = events[-1]
    assert (last["event"], last["data"]["status"], last["data"]["run_id"]) == (
        "run",
        "succeeded",
        run_id,
    )
    assert last["data"]["ended_at"]
    finals = {e["data"]["node_id"]: e["data"]["status"] for e in events if e["event"] == "node"}
    assert finals == {"hold": "succeeded", "after": "succeeded"}
    hold = [
        e["data"]["status"]
        for e in events
        if e["event"] == "node" and e["data"]["node_id"] == "hold"
    ]
    assert hold[-1] == "succeeded"
    assert len(hold) == len(dict.fromkeys(hold))


async def test_a_finished_run_replays_the_same_ids_and_resumes_after_the_last_seen(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    run_id = await _start(http, editor)
    await run_becomes(http, editor, run_id, "succeeded")
    whole = parse((await http.get(f"{API}/runs/{run_id}/events", headers=editor.headers)).text)
    assert [(e["id"] % 1000, e["event"]) for e in whole] == [(1, "node"), (2, "node"), (3, "run")]
    assert len({e["id"] // 1000 for e in whole}) == 1  # one observation of the final state
    again = parse((await http.get(f"{API}/runs/{run_id}/events", headers=editor.headers)).text)
    assert again == whole
    assert await _events(http, editor, run_id, whole[1]["id"]) == whole[2:]
    assert await _events(http, editor, run_id, whole[2]["id"]) == []


async def _events(
    http: httpx.AsyncClient, actor: Actor, run_id: str, last: int
) -> list[dict[str, Any]]:
    headers = {**actor.headers, "Last-Event-ID": str(last)}
    response = await http.get(f"{API}/runs/{run_id}/events", headers=headers)
    assert response.status_code == 200
    return parse(response.text)


async def _waiting(http: httpx.AsyncClient, actor: Actor, run_id: str) -> bool | None:
    run = (await http.get(f"{API}/runs/{run_id}", headers=actor.headers)).json()
    return True if run["nodes"] and run["nodes"][0]["status"] == "waiting" else None


async def test_a_live_stream_ends_and_resumes_without_repeats_until_the_run_moves(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor, waiting_definition())
    started = await http.post(
        f"{API}/workflows/{workflow['id']}/runs", json={}, headers=editor.headers
    )
    run_id = started.json()["run_id"]
    await eventually(lambda: _waiting(http, editor, run_id), what="the wait node to start")
    # The app's streams end after a few seconds while the run goes on.
    first = await _events(http, editor, run_id, 0)
    assert first
    assert all(e["event"] == "node" for e in first)
    assert await _events(http, editor, run_id, first[-1]["id"]) == []
    assert (
        await http.post(f"{API}/runs/{run_id}/cancel", headers=editor.headers)
    ).status_code == 202
    after = await _events(http, editor, run_id, first[-1]["id"])
    assert after[0]["id"] > first[-1]["id"]
    assert after[-1]["data"]["status"] == "cancelled"


async def test_others_get_404(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, other_editor: Actor, viewer: Actor
) -> None:
    run_id = await _start(http, editor)
    for actor in (other_editor, viewer):
        response = await http.get(f"{API}/runs/{run_id}/events", headers=actor.headers)
        assert response.status_code == 404
    assert (
        await http.get(f"{API}/runs/run-nope/events", headers=editor.headers)
    ).status_code == 404


async def test_lines_of_log_nodes_are_the_runs_log_in_its_events(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    body = definition(
        nodes=[
            {"id": "hello", "type": "log", "config": {"message": "hello {{ input.name }}"}},
            {"id": "bye", "type": "echo", "config": {"message": "bye", "level": "warning"}},
        ],
        edges=[{"from": "hello", "to": "bye"}],
    )
    created = await create_workflow(http, editor, body)
    run_id = await start_run(http, editor, created["id"], input={"name": "Ada"})
    await run_becomes(http, editor, run_id, "succeeded")

    events = parse((await http.get(f"{API}/runs/{run_id}/events", headers=editor.headers)).text)

    lines = [(e["data"]["node_id"], e["data"]["message"]) for e in events if e["event"] == "log"]
    assert lines == [("hello", "hello Ada"), ("bye", "bye")]
    logged = next(e for e in events if e["event"] == "log")
    assert logged["data"]["run_id"] == run_id
    assert logged["data"]["at"]

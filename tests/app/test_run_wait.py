"""``?wait=``: a start or an output read that answers with the run's end, without polling."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from temporalio.worker import Worker

from app.core.state import AppState
from tests.support.api import API, Actor, create_workflow, definition, waiting_definition


async def started(
    http: httpx.AsyncClient, actor: Actor, body: dict[str, Any], wait: float, **headers: str
) -> httpx.Response:
    workflow = await create_workflow(http, actor, body)
    return await http.post(
        f"{API}/workflows/{workflow['id']}/runs",
        params={"wait": wait},
        json={"input": {"name": "Ada"}},
        headers={**actor.headers, **headers},
    )


async def test_a_start_that_waits_answers_with_the_output(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    body = definition(
        nodes=[{"id": "greet", "type": "transform", "config": {"value": "hi {{ input.name }}"}}],
        output="{{ nodes.greet.output }}",
    )
    response = await started(http, editor, body, wait=30)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "succeeded"
    assert answer["output"] == "hi Ada"
    assert answer["error"] is None
    # The run is a run like any other.
    run = (await http.get(f"{API}/runs/{answer['run_id']}", headers=editor.headers)).json()
    assert run["status"] == "succeeded"


async def test_a_start_that_waits_for_a_failing_run_answers_with_its_error(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    refusal = {"message": "no stock for {{ input.name }}"}
    body = definition(nodes=[{"id": "stop", "type": "fail", "config": refusal}])
    response = await started(http, editor, body, wait=30)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "failed"
    assert answer["output"] is None
    assert "no stock for Ada" in answer["error"]["message"]
    assert answer["error"]["type"] == "Fail"


async def test_a_wait_shorter_than_the_run_answers_as_a_plain_start(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    began = time.monotonic()
    response = await started(http, editor, waiting_definition("1h"), wait=0.5)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "running"
    assert "output" not in response.json()
    assert time.monotonic() - began < 15  # the wait ended it, not the run
    run_id = response.json()["run_id"]
    output = await http.get(
        f"{API}/runs/{run_id}/output", params={"wait": 0.3}, headers=editor.headers
    )
    assert output.status_code == 409
    assert "running" in output.json()["detail"]
    await http.post(f"{API}/runs/{run_id}/cancel", headers=editor.headers)


async def test_an_output_read_waits_for_the_end(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    body = definition(
        nodes=[
            {"id": "hold", "type": "wait", "config": {"duration": "1s"}},
            {"id": "done", "type": "transform", "config": {"value": {"ok": True}}},
        ],
        edges=[{"from": "hold", "to": "done"}],
        output="{{ nodes.done.output }}",
    )
    start = await started(http, editor, body, wait=0)
    assert start.status_code == 202, start.text
    run_id = start.json()["run_id"]
    output = await http.get(
        f"{API}/runs/{run_id}/output", params={"wait": 30}, headers=editor.headers
    )
    assert output.status_code == 200, output.text
    assert output.json() == {"ok": True}


async def test_a_repeated_idempotent_start_that_waits_answers_with_the_same_end(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor, definition(output="{{ nodes.greet.output }}"))
    key = {"Idempotency-Key": f"wait-{uuid.uuid4().hex}"}
    answers = [
        await http.post(
            f"{API}/workflows/{workflow['id']}/runs",
            params={"wait": 30},
            json={"input": {}},
            headers={**editor.headers, **key},
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    first, second = (a.json() for a in answers)
    assert first["run_id"] == second["run_id"]
    assert first["output"] == second["output"] == "hello"


async def test_a_wait_past_the_limit_is_refused_at_its_parameter(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    for wait in (-1, 10_000):
        response = await http.post(
            f"{API}/workflows/{workflow['id']}/runs",
            params={"wait": wait},
            json={"input": {}},
            headers=editor.headers,
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["path"] == "/query/wait"
        assert "FLOWFORGE_RUN_WAIT_MAX_SECONDS" in error["message"]


async def test_waiting_requests_hold_no_database_connection(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, app_state: AppState
) -> None:
    """Waiting starts and waiting output reads leave the pool to the requests that use it."""
    workflow = await create_workflow(http, editor, waiting_definition("6s"))
    pool = app_state.engine.pool
    url = f"{API}/workflows/{workflow['id']}/runs"

    async def start() -> httpx.Response:
        return await http.post(url, params={"wait": 30}, json={}, headers=editor.headers)

    async def pool_idle_while(tasks: list[asyncio.Task[httpx.Response]]) -> None:
        """Every request has done its database work, none has its answer: all are waiting.

        A request still launching holds a connection for a moment, so this polls.
        """
        for _ in range(50):
            if pool.checkedout() == 0:  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.1)
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        assert not any(task.done() for task in tasks)

    waiting = [asyncio.create_task(start()) for _ in range(24)]
    await asyncio.sleep(0.5)
    await pool_idle_while(waiting)
    answers = await asyncio.gather(*waiting)
    assert [a.status_code for a in answers] == [200] * len(waiting), answers[0].text
    assert {a.json()["status"] for a in answers} == {"succeeded"}

    # An output read that waits gives its connection back too.
    again = await http.post(url, json={}, headers=editor.headers)
    assert again.status_code == 202, again.text
    output = f"{API}/runs/{again.json()['run_id']}/output"
    reading = asyncio.create_task(http.get(output, params={"wait": 30}, headers=editor.headers))
    await asyncio.sleep(0.5)
    await pool_idle_while([reading])
    assert (await reading).status_code == 200

"""Values over Temporal's payload limit end their node or run at once, through the real stack.

A real Temporal dev server (2 MiB payload limit), the session's worker and
PostgreSQL-backed API, and real HTTP peers that count what reaches them.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from temporalio.worker import Worker

from app.settings import Settings
from interpreter.contract.run import RunOptions
from tests.support.api import API, Actor, quota_api, run_becomes, run_of
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply

BLOB = 900_000
"""Bytes of one large response: three of them are over Temporal's 2 MiB."""


def _three_fetches(peer: Peer, **definition: Any) -> dict[str, Any]:
    peer.route("/big", Reply(body={"blob": "x" * BLOB}))
    return {
        "name": f"big-{uuid.uuid4().hex[:8]}",
        "nodes": [
            {
                "id": name,
                "type": "http",
                "config": {"url": f"{peer.url}/big", "max_response_bytes": 1_000_000},
            }
            for name in ("a", "b", "c")
        ],
        **definition,
    }


async def test_three_large_responses_fail_the_run_with_its_size(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    began = time.monotonic()
    run_id = await run_of(http, editor, _three_fetches(peer))

    run = await run_becomes(http, editor, run_id, "failed")
    took = time.monotonic() - began

    assert run["error"]["type"] == "OutputTooLarge"
    message = run["error"]["message"]
    assert message.startswith("the run's output is ")
    assert "over the 2000000-byte limit" in message
    assert "keep less with the definition's `output`" in message
    assert run["error"]["details"]["bytes"] > 2_700_000
    assert {n["id"]: n["status"] for n in run["nodes"]} == {
        "a": "succeeded",
        "b": "succeeded",
        "c": "succeeded",
    }
    assert len(peer.hits("/big")) == 3
    assert took < 15, took
    print(f"three 900 KB responses: run failed in {took:.2f} s")

    # The run view shows a preview; the node's own output route gives it whole.
    shown = run["nodes"][0]["output"]
    assert shown["truncated"] is True
    full = await http.get(f"{API}/runs/{run_id}/nodes/a/output", headers=editor.headers)
    assert full.status_code == 200, full.text
    assert full.json()["body"] == {"blob": "x" * BLOB}
    assert full.json()["status"] == 200
    no_output = await http.get(f"{API}/runs/{run_id}/output", headers=editor.headers)
    assert no_output.status_code == 409
    assert "failed" in no_output.json()["detail"]


async def test_keeping_less_with_output_makes_the_same_run_succeed(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    body = _three_fetches(peer)
    body["nodes"][0]["output"] = "{{ result.body }}"
    body["output"] = {"a": "{{ nodes.a.output }}", "b": "{{ size(nodes.b.output.body.blob) }}"}
    run_id = await run_of(http, editor, body)

    run = await run_becomes(http, editor, run_id, "succeeded")

    assert run["output"]["truncated"] is True
    output = await http.get(f"{API}/runs/{run_id}/output", headers=editor.headers)
    assert output.status_code == 200, output.text
    assert output.json() == {"a": {"blob": "x" * BLOB}, "b": BLOB}
    node = await http.get(f"{API}/runs/{run_id}/nodes/a/output", headers=editor.headers)
    assert node.json() == {"blob": "x" * BLOB}


async def test_a_for_each_output_over_the_limit_fails_its_node(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    body = {
        "name": f"loop-{uuid.uuid4().hex[:8]}",
        "nodes": [
            {
                "id": "loop",
                "type": "for_each",
                "config": {
                    "items": "input.ids",
                    "max_concurrency": 500,
                    "body": {
                        "nodes": [
                            {
                                "id": "row",
                                "type": "transform",
                                "config": {"value": {"id": "{{ item }}", "pad": "p" * 600}},
                            }
                        ]
                    },
                },
            }
        ],
    }
    created = await http.post(f"{API}/workflows", json={"definition": body}, headers=editor.headers)
    assert created.status_code == 201, created.text
    began = time.monotonic()
    started = await http.post(
        f"{API}/workflows/{created.json()['id']}/runs",
        # 4,000 items of about 620 bytes: an output of about 2.5 MB, as the issue's
        # 20,000 small items made, with a fifth of the work.
        json={"input": {"ids": list(range(4_000))}},
        headers=editor.headers,
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]

    async def ended() -> dict[str, Any] | None:
        run: dict[str, Any] = (
            await http.get(f"{API}/runs/{run_id}", headers=editor.headers)
        ).json()
        return run if run["status"] != "running" else None

    run = await eventually(ended, within=90, what="the 4,000-item run to end")
    took = time.monotonic() - began
    print(f"4,000-item for_each: run {run['status']} in {took:.1f} s")

    assert run["status"] == "failed"
    loop = run["nodes"][0]
    assert loop["status"] == "failed"
    assert loop["error"]["type"] == "OutputTooLarge"
    assert loop["error"]["message"].startswith("node 'loop': its output is ")
    assert loop["error"]["details"]["limit"] == 2_000_000


async def test_an_http_result_over_the_limit_fails_after_one_request(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    # 1.5 MB of control characters: within max_response_bytes, but each one is
    # six bytes (\u0001) once the result is JSON, far over the payload limit.
    peer.route("/huge", Reply(raw=b"\x01" * 1_500_000, headers={"Content-Type": "text/plain"}))
    body = {
        "name": f"huge-{uuid.uuid4().hex[:8]}",
        "nodes": [
            {
                "id": "post",
                "type": "http",
                "retry": {"max_attempts": 3, "initial_interval": "100ms"},
                "config": {
                    "method": "POST",
                    "url": f"{peer.url}/huge",
                    "body": {"order": 1},
                    "max_response_bytes": 1_900_000,
                },
            }
        ],
    }
    began = time.monotonic()
    run_id = await run_of(http, editor, body)

    run = await run_becomes(http, editor, run_id, "failed")
    took = time.monotonic() - began

    node = run["nodes"][0]
    assert node["error"]["type"] == "OutputTooLarge"
    assert node["attempts"] == 1
    message = node["error"]["message"]
    assert message.startswith("node 'post': the http result is ")
    assert "over the 2000000-byte limit of one Temporal payload" in message
    assert node["error"]["details"]["limit"] == 2_000_000
    assert node["error"]["details"]["bytes"] > 9_000_000
    assert [seen.method for seen in peer.hits("/huge")] == ["POST"]
    print(f"oversized http result: node failed in {took:.2f} s, peer saw 1 POST")


async def test_max_response_bytes_over_the_limit_is_refused_at_save(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    body = {
        "name": f"cap-{uuid.uuid4().hex[:8]}",
        "nodes": [
            {
                "id": "fetch",
                "type": "http",
                "config": {"url": "https://api.example.com/x", "max_response_bytes": 10_485_760},
            }
        ],
    }
    response = await http.post(
        f"{API}/workflows", json={"definition": body}, headers=editor.headers
    )

    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["path"] == "/nodes/0/config/max_response_bytes"
    assert error["code"] == "over_limit"
    assert error["message"].startswith(
        "node 'fetch': max_response_bytes 10485760 is over the 2000000 bytes"
    )


async def test_outputs_of_a_running_run_and_of_unknown_nodes(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, viewer: Actor
) -> None:
    body = {
        "name": f"hold-{uuid.uuid4().hex[:8]}",
        "nodes": [
            {"id": "first", "type": "transform", "config": {"value": {"n": 1}}},
            {"id": "hold", "type": "wait", "config": {"duration": "1h"}},
        ],
        "edges": [{"from": "first", "to": "hold"}],
    }
    run_id = await run_of(http, editor, body)

    async def holding() -> bool:
        run = (await http.get(f"{API}/runs/{run_id}", headers=editor.headers)).json()
        return any(n["id"] == "hold" and n["status"] == "waiting" for n in run["nodes"])

    await eventually(holding, what="the wait node to start")
    first = await http.get(f"{API}/runs/{run_id}/nodes/first/output", headers=editor.headers)
    assert (first.status_code, first.json()) == (200, {"n": 1})
    hold = await http.get(f"{API}/runs/{run_id}/nodes/hold/output", headers=editor.headers)
    assert hold.status_code == 409
    assert "is waiting" in hold.json()["detail"]
    unknown = await http.get(f"{API}/runs/{run_id}/nodes/nope/output", headers=editor.headers)
    assert unknown.status_code == 404
    running = await http.get(f"{API}/runs/{run_id}/output", headers=editor.headers)
    assert running.status_code == 409
    assert "running" in running.json()["detail"]
    # Someone else's run is not found, whatever they ask of it.
    other = await http.get(f"{API}/runs/{run_id}/output", headers=viewer.headers)
    assert other.status_code == 404
    assert (await http.post(f"{API}/runs/{run_id}/cancel", headers=editor.headers)).json()[
        "status"
    ] == "cancelled"


async def test_a_failing_workflow_task_is_reported_and_cancel_ends_the_run(
    settings: Settings, worker: Worker, editor: Actor, peer: Peer
) -> None:
    # An API that believes payloads may be 8 MB: the checks let the run output
    # through and Temporal refuses it, as it refused every run before them.
    async with quota_api(
        settings,
        task_queue=settings.task_queue,
        run=RunOptions(max_payload_bytes=8_000_000),
        cancel_grace_seconds=2.0,
    ) as api:
        # Regular activities: the task that fails is the one completing the run. A task that
        # ran local attempts would make them again on each of its retries (docs/RUNS.md).
        run_id = await run_of(api, editor, _three_fetches(peer, defaults={"execution": "activity"}))

        async def stalled() -> dict[str, Any] | None:
            run: dict[str, Any] = (
                await api.get(f"{API}/runs/{run_id}", headers=editor.headers)
            ).json()
            return run if run["workflow_task_failure"] else None

        run = await eventually(stalled, within=60, what="the workflow task to fail")
        failure = run["workflow_task_failure"]
        print(f"failing workflow task: {failure}")
        assert run["status"] == "running"
        assert failure["cause"] != "UNKNOWN"
        assert failure["attempts"] >= 2
        assert run["error"]["type"] == "WorkflowTaskFailed"
        assert failure["cause"] in run["error"]["message"]
        assert "no worker" not in run["error"]["message"]

        node = await api.get(f"{API}/runs/{run_id}/nodes/a", headers=editor.headers)
        assert node.status_code == 409
        assert failure["cause"] in node.json()["detail"]
        paused = await api.post(f"{API}/runs/{run_id}/pause", headers=editor.headers)
        assert paused.status_code == 409
        assert "can only be cancelled or terminated" in paused.json()["detail"]

        began = time.monotonic()
        cancelled = await api.post(f"{API}/runs/{run_id}/cancel", headers=editor.headers)
        took = time.monotonic() - began
        assert cancelled.status_code == 202, cancelled.text
        assert cancelled.json() == {"run_id": run_id, "status": "terminated"}
        assert 2.0 <= took < 10, took
        print(f"cancel of a run whose task fails: terminated after {took:.2f} s")
        run = (await api.get(f"{API}/runs/{run_id}", headers=editor.headers)).json()
        assert run["status"] == "terminated"
        again = await api.post(f"{API}/runs/{run_id}/cancel", headers=editor.headers)
        assert again.status_code == 409


async def test_a_rerun_reusing_more_than_a_payload_holds_is_refused(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    body = _three_fetches(peer)
    body["nodes"].append({"id": "d", "type": "transform", "config": {"value": "done"}})
    body["edges"] = [{"from": x, "to": "d"} for x in ("a", "b", "c")]
    body["output"] = "{{ nodes.d.output }}"
    run_id = await run_of(http, editor, body)
    await run_becomes(http, editor, run_id, "succeeded")

    # The outputs upstream of d are read in groups that fit one answer each,
    # and together they are more than one run input may carry.
    refused = await http.post(
        f"{API}/runs/{run_id}/rerun", json={"from_node": "d"}, headers=editor.headers
    )
    assert refused.status_code == 422, refused.text
    assert "over the 2000000-byte limit" in refused.json()["detail"]
    assert "rerun from a node with less upstream of it" in refused.json()["detail"]
    assert len(peer.hits("/big")) == 3

"""Rollouts: a candidate version takes a share of new runs; the arms compared, then promoted.

Through the real stack: the API on PostgreSQL, runs on the real Temporal dev
server and worker, metrics from Temporal's visibility.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from app.triggers.hook_signature import sign
from tests.support.api import API, Actor, create_workflow, definition, run_becomes
from tests.support.eventually import eventually

pytestmark = pytest.mark.usefixtures("worker")


def _says(name: str, word: str) -> dict[str, Any]:
    return definition(
        name, nodes=[{"id": "say", "type": "transform", "config": {"value": word}}],
        output="{{ nodes.say.output }}",
    )  # fmt: skip


async def _two_versions(http: httpx.AsyncClient, actor: Actor) -> str:
    """A workflow whose version 1 is active and version 2 saved beside it."""
    created = await create_workflow(http, actor, _says("rolled", "one"))
    name = created["name"]
    saved = await http.put(
        f"{API}/workflows/{created['id']}?activate=false",
        json={"definition": _says(name, "two")},
        headers=actor.headers,
    )
    assert (saved.json()["version"], saved.json()["active_version"]) == (2, 1)
    workflow_id: str = created["id"]
    return workflow_id


async def _rollout(
    http: httpx.AsyncClient, actor: Actor, workflow_id: str, **body: Any
) -> httpx.Response:
    return await http.put(
        f"{API}/workflows/{workflow_id}/rollout", json=body, headers=actor.headers
    )


async def _start(
    http: httpx.AsyncClient, actor: Actor, workflow_id: str, run_input: Any = None
) -> dict[str, Any]:
    response = await http.post(
        f"{API}/workflows/{workflow_id}/runs", json={"input": run_input or {}},
        headers=actor.headers,
    )  # fmt: skip
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


async def test_the_share_goes_to_the_candidate_and_each_run_records_its_arm(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow_id = await _two_versions(http, editor)
    answer = await _rollout(http, editor, workflow_id, candidate=2, percent=100)
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"started_at": None} == {
        "candidate": 2, "percent": 100, "sticky_by": None, "stable": 1, "started_at": None,
    }  # fmt: skip
    on_candidate = await _start(http, editor, workflow_id)
    assert on_candidate["version"] == 2
    run = await run_becomes(http, editor, on_candidate["run_id"], "succeeded")
    assert (run["output"], run["arm"]) == ("two", "candidate")
    await _rollout(http, editor, workflow_id, candidate=2, percent=0)
    on_stable = await _start(http, editor, workflow_id)
    run = await run_becomes(http, editor, on_stable["run_id"], "succeeded")
    assert (run["version"], run["output"], run["arm"]) == (1, "one", "stable")
    # A run that names its version is no part of the rollout.
    pinned = await http.post(
        f"{API}/workflows/{workflow_id}/runs", json={"version": 2}, headers=editor.headers
    )
    run = await run_becomes(http, editor, pinned.json()["run_id"], "succeeded")
    assert (run["version"], run["arm"]) == (2, None)


async def test_sticky_by_sends_one_value_to_one_arm(http: httpx.AsyncClient, editor: Actor) -> None:
    workflow_id = await _two_versions(http, editor)
    answer = await _rollout(
        http, editor, workflow_id, candidate=2, percent=50, sticky_by="input.customer_id"
    )
    assert answer.status_code == 200, answer.text
    arms: dict[str, set[int]] = {}
    for customer in [f"c{n}" for n in range(16)] * 2:
        accepted = await _start(http, editor, workflow_id, {"customer_id": customer})
        arms.setdefault(customer, set()).add(accepted["version"])
    assert all(len(versions) == 1 for versions in arms.values()), arms
    spread = Counter(next(iter(versions)) for versions in arms.values())
    assert set(spread) == {1, 2}, spread  # 16 customers at 50%: both arms
    # Raising the share only moves customers onto the candidate, never back.
    await _rollout(
        http, editor, workflow_id, candidate=2, percent=100, sticky_by="input.customer_id"
    )
    for customer in arms:
        accepted = await _start(http, editor, workflow_id, {"customer_id": customer})
        assert accepted["version"] == 2


async def test_bad_rollouts_are_named(http: httpx.AsyncClient, editor: Actor) -> None:
    workflow_id = await _two_versions(http, editor)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"candidate": 9, "percent": 10}, "/body/candidate", "unknown_version"),
        ({"candidate": 1, "percent": 10}, "/body/candidate", "candidate_is_active"),
        ({"candidate": 2, "percent": 10, "sticky_by": "nodes.a.output"}, "/body/sticky_by",
         "unknown_name"),
        ({"candidate": 2, "percent": 10, "sticky_by": "input.("}, "/body/sticky_by",
         "bad_expression"),
    ]  # fmt: skip
    for body, path, code in cases:
        answer = await _rollout(http, editor, workflow_id, **body)
        assert answer.status_code == 422, body
        assert [(e["path"], e["code"]) for e in answer.json()["errors"]] == [(path, code)]
    over = await _rollout(http, editor, workflow_id, candidate=2, percent=101)
    assert over.status_code == 422
    missing = await http.get(f"{API}/workflows/{workflow_id}/rollout", headers=editor.headers)
    assert missing.status_code == 404


async def test_the_arms_are_compared_then_the_candidate_promoted(
    http: httpx.AsyncClient, editor: Actor, viewer: Actor
) -> None:
    workflow_id = await _two_versions(http, editor)
    await _rollout(http, editor, workflow_id, candidate=2, percent=100)
    runs = [await _start(http, editor, workflow_id) for _ in range(2)]
    await _rollout(http, editor, workflow_id, candidate=2, percent=0)
    runs.append(await _start(http, editor, workflow_id))
    for accepted in runs:
        await run_becomes(http, editor, accepted["run_id"], "succeeded")

    async def compared() -> dict[str, Any] | None:
        answer = await http.get(
            f"{API}/workflows/{workflow_id}/metrics?by=version", headers=editor.headers
        )
        shown: dict[str, Any] = answer.json()
        counted = {v["version"]: v["metrics"]["runs"]["succeeded"] for v in shown["versions"]}
        return shown if counted == {1: 1, 2: 2} else None

    shown = await eventually(compared, what="both arms counted")
    assert {v["version"]: v["arm"] for v in shown["versions"]} == {1: "stable", 2: "candidate"}
    assert all(v["metrics"]["success_rate"] == 1.0 for v in shown["versions"])
    assert shown["runs"]["succeeded"] == 3
    # Viewers read it, only editors steer it.
    assert (await http.get(f"{API}/workflows/{workflow_id}/rollout", headers=viewer.headers)
            ).status_code in (200, 404)  # fmt: skip
    promoted = await http.post(
        f"{API}/workflows/{workflow_id}/rollout/promote", headers=editor.headers
    )
    assert promoted.json()["active_version"] == 2
    gone = await http.get(f"{API}/workflows/{workflow_id}/rollout", headers=editor.headers)
    assert gone.status_code == 404
    aborted = await http.delete(f"{API}/workflows/{workflow_id}/rollout", headers=editor.headers)
    assert aborted.status_code == 404
    again = await _start(http, editor, workflow_id)
    assert again["version"] == 2


async def test_abort_sends_every_run_back_to_the_active_version(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow_id = await _two_versions(http, editor)
    await _rollout(http, editor, workflow_id, candidate=2, percent=100)
    aborted = await http.delete(f"{API}/workflows/{workflow_id}/rollout", headers=editor.headers)
    assert aborted.status_code == 204
    assert (await _start(http, editor, workflow_id))["version"] == 1


async def test_hooks_and_events_follow_the_rollout_too(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    event = f"rolled.{uuid.uuid4().hex[:8]}"
    created = await create_workflow(
        http,
        editor,
        {**_says("by-trigger", "one"), "triggers": [{"type": "event", "event": event}]},
    )
    workflow_id, name = created["id"], created["name"]
    later = {**_says(name, "two"), "triggers": [{"type": "event", "event": event}]}
    await http.put(
        f"{API}/workflows/{workflow_id}?activate=false",
        json={"definition": later},
        headers=editor.headers,
    )
    await _rollout(http, editor, workflow_id, candidate=2, percent=100)
    hook = (
        await http.post(f"{API}/workflows/{workflow_id}/webhooks", headers=editor.headers)
    ).json()
    payload, stamp = json.dumps({"n": 1}).encode(), str(int(time.time()))
    delivered = await http.post(
        httpx.URL(hook["url"]).path,
        content=payload,
        headers={
            "Content-Type": "application/json",
            "X-Timestamp": stamp,
            "X-Signature": sign(hook["secret"], payload, stamp, None),
        },
    )
    assert delivered.status_code == 202, delivered.text
    sent = await http.post(
        f"{API}/events", json={"type": event, "payload": {}}, headers=editor.headers
    )
    [from_event] = sent.json()["runs"]
    for run_id in (delivered.json()["run_id"], from_event["run_id"]):
        run = await run_becomes(http, editor, run_id, "succeeded")
        assert (run["version"], run["arm"], run["output"]) == (2, "candidate", "two")

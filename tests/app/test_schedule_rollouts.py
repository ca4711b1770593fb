"""Rollouts reach the runs schedules start: each run picks its arm as it starts, and records it.

Through the real stack: the API on PostgreSQL, Temporal Schedules firing on
the real dev server, runs on the real worker.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from temporalio.client import Client

from interpreter.contract.rollout import bucket, rollout_salt
from tests.app.test_rollouts import _rollout, _two_versions
from tests.app.test_tracing import replays_traced_and_untraced, spans  # noqa: F401
from tests.support.api import API, Actor, create_workflow, definition
from tests.support.eventually import eventually

pytestmark = pytest.mark.usefixtures("worker", "spans")


def _customers(workflow_id: str, candidate: int, percent: int) -> tuple[str, str]:
    """A customer the bucket sends to the candidate, and one it keeps on the stable arm."""
    salt = rollout_salt(workflow_id, candidate)
    names = [f"customer-{n}" for n in range(100)]
    to_candidate = next(name for name in names if bucket(salt, name) < percent)
    to_stable = next(name for name in names if bucket(salt, name) >= percent)
    return to_candidate, to_stable


async def _schedule(
    http: httpx.AsyncClient, actor: Actor, workflow_id: str, **body: Any
) -> dict[str, Any]:
    response = await http.post(
        f"{API}/workflows/{workflow_id}/schedules",
        json={"interval": "1s", **body},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _read_schedule(http: httpx.AsyncClient, actor: Actor, schedule_id: str) -> dict[str, Any]:
    response = await http.get(f"{API}/schedules/{schedule_id}", headers=actor.headers)
    assert response.status_code == 200, response.text
    shown: dict[str, Any] = response.json()
    return shown


async def _finished_runs(
    http: httpx.AsyncClient, actor: Actor, schedule_id: str, at_least: int
) -> list[dict[str, Any]]:
    """The details of the schedule's succeeded runs, once there are ``at_least``."""

    async def enough() -> list[dict[str, Any]] | None:
        shown = await _read_schedule(http, actor, schedule_id)
        runs = []
        for started in shown["recent_runs"]:
            answer = await http.get(f"{API}/runs/{started['run_id']}", headers=actor.headers)
            if answer.status_code == 200 and answer.json()["status"] == "succeeded":
                runs.append(answer.json())
        return runs if len(runs) >= at_least else None

    found: list[dict[str, Any]] = await eventually(
        enough, within=30, what=f"{at_least} runs of {schedule_id}"
    )
    return found


async def _delete(http: httpx.AsyncClient, actor: Actor, *schedule_ids: str) -> None:
    for schedule_id in schedule_ids:
        await http.delete(f"{API}/schedules/{schedule_id}", headers=actor.headers)


async def test_a_half_rollout_sends_scheduled_runs_to_both_arms_and_sticky_values_stick(
    http: httpx.AsyncClient, editor: Actor, temporal_client: Client
) -> None:
    workflow_id = await _two_versions(http, editor)
    to_candidate, to_stable = _customers(workflow_id, 2, 50)
    paused = await _schedule(http, editor, workflow_id, input={"customer": to_stable}, paused=True)
    pinned = await _schedule(http, editor, workflow_id, input={"customer": to_candidate}, version=1)
    answer = await _rollout(
        http, editor, workflow_id, candidate=2, percent=50, sticky_by="input.customer"
    )
    assert answer.status_code == 200, answer.text
    # Schedules made before the rollout join it; it changes nothing else of them.
    joined = await _read_schedule(http, editor, paused["schedule_id"])
    assert joined["rollout"] == {"candidate": 2, "percent": 50, "sticky_by": "input.customer"}
    assert (joined["paused"], joined["next_runs"], joined["version"]) == (True, [], 1)
    assert joined["interval"] == "1s"
    assert (await _read_schedule(http, editor, pinned["schedule_id"]))["rollout"] is None
    # Made during the rollout: a schedule joins it at once.
    sticky_candidate = await _schedule(http, editor, workflow_id, input={"customer": to_candidate})
    assert sticky_candidate["rollout"] is not None
    resumed = await http.patch(
        f"{API}/schedules/{paused['schedule_id']}", json={"paused": False}, headers=editor.headers
    )
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["rollout"] is not None

    try:
        on_candidate = await _finished_runs(http, editor, sticky_candidate["schedule_id"], 2)
        on_stable = await _finished_runs(http, editor, paused["schedule_id"], 2)
        on_pinned = await _finished_runs(http, editor, pinned["schedule_id"], 1)
    finally:
        await _delete(
            http, editor, paused["schedule_id"], pinned["schedule_id"],
            sticky_candidate["schedule_id"],
        )  # fmt: skip
    assert {(r["version"], r["arm"], r["output"], r["trigger"]) for r in on_candidate} == {
        (2, "candidate", "two", "schedule")
    }
    assert {(r["version"], r["arm"], r["output"]) for r in on_stable} == {(1, "stable", "one")}
    assert {(r["version"], r["arm"], r["output"]) for r in on_pinned} == {(1, None, "one")}
    # A run that placed itself replays to the same arm.
    await replays_traced_and_untraced(temporal_client, on_candidate[0]["run_id"])
    await replays_traced_and_untraced(temporal_client, on_stable[0]["run_id"])

    async def compared() -> dict[int, int] | None:
        answer = await http.get(
            f"{API}/workflows/{workflow_id}/metrics?by=version", headers=editor.headers
        )
        counted = {v["version"]: v["metrics"]["runs"]["total"] for v in answer.json()["versions"]}
        return counted if counted.get(2, 0) >= 2 and counted.get(1, 0) >= 3 else None

    await eventually(compared, what="the scheduled runs counted on their versions")


async def test_without_sticky_by_each_run_is_placed_by_its_run_id_then_promotion_moves_schedules(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow_id = await _two_versions(http, editor)
    answer = await _rollout(http, editor, workflow_id, candidate=2, percent=50)
    assert answer.status_code == 200, answer.text
    schedule = await _schedule(http, editor, workflow_id, input={})
    salt = rollout_salt(workflow_id, 2)

    def both_arms(runs: list[dict[str, Any]]) -> bool:
        return {run["arm"] for run in runs} == {"candidate", "stable"}

    async def placed() -> list[dict[str, Any]] | None:
        runs = await _finished_runs(http, editor, schedule["schedule_id"], 1)
        return runs if both_arms(runs) else None

    try:
        runs = await eventually(placed, within=60, what="scheduled runs on both arms")
        for run in runs:
            expected = "candidate" if bucket(salt, {"run": run["run_id"]}) < 50 else "stable"
            assert (run["arm"], run["version"]) == (expected, 2 if expected == "candidate" else 1)
        promoted = await http.post(
            f"{API}/workflows/{workflow_id}/rollout/promote", headers=editor.headers
        )
        assert promoted.status_code == 200, promoted.text
        moved = await _read_schedule(http, editor, schedule["schedule_id"])
        assert (moved["version"], moved["rollout"]) == (2, None)
    finally:
        await _delete(http, editor, schedule["schedule_id"])


async def test_aborting_a_rollout_takes_it_off_the_schedules(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow_id = await _two_versions(http, editor)
    schedule = await _schedule(http, editor, workflow_id, input={}, paused=True)
    await _rollout(http, editor, workflow_id, candidate=2, percent=30)
    assert (await _read_schedule(http, editor, schedule["schedule_id"]))["rollout"] is not None
    aborted = await http.delete(f"{API}/workflows/{workflow_id}/rollout", headers=editor.headers)
    assert aborted.status_code == 204
    shown = await _read_schedule(http, editor, schedule["schedule_id"])
    assert (shown["version"], shown["rollout"], shown["paused"]) == (1, None, True)
    await _delete(http, editor, schedule["schedule_id"])


async def test_activating_the_candidate_moves_the_schedules_that_took_part(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow_id = await _two_versions(http, editor)
    joined = await _schedule(http, editor, workflow_id, input={}, paused=True)
    pinned = await _schedule(http, editor, workflow_id, input={}, paused=True, version=1)
    await _rollout(http, editor, workflow_id, candidate=2, percent=10)
    activated = await http.post(
        f"{API}/workflows/{workflow_id}/versions/2/activate", headers=editor.headers
    )
    assert activated.status_code == 200, activated.text
    moved = await _read_schedule(http, editor, joined["schedule_id"])
    assert (moved["version"], moved["rollout"], moved["paused"]) == (2, None, True)
    kept = await _read_schedule(http, editor, pinned["schedule_id"])
    assert (kept["version"], kept["rollout"], kept["pinned"]) == (1, None, True)
    await _delete(http, editor, joined["schedule_id"], pinned["schedule_id"])


async def test_a_schedule_whose_input_the_candidate_refuses_stays_on_the_stable_version(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    created = await create_workflow(http, editor, definition())
    strict = definition(
        created["name"],
        input_schema={"type": "object", "required": ["customer"]},
    )
    saved = await http.put(
        f"{API}/workflows/{created['id']}?activate=false",
        json={"definition": strict},
        headers=editor.headers,
    )
    assert saved.status_code == 200, saved.text
    fits = await _schedule(http, editor, created["id"], input={"customer": "c"}, paused=True)
    refused = await _schedule(http, editor, created["id"], input={}, paused=True)
    answer = await _rollout(http, editor, created["id"], candidate=2, percent=50)
    assert answer.status_code == 200, answer.text
    assert (await _read_schedule(http, editor, fits["schedule_id"]))["rollout"] is not None
    assert (await _read_schedule(http, editor, refused["schedule_id"]))["rollout"] is None
    await _delete(http, editor, fits["schedule_id"], refused["schedule_id"])

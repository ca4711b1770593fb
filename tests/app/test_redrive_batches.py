"""Bulk redrive as a Temporal workflow: the batch, its progress, its owner, and forged batches."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Replayer, Worker

from app.core.state import AppState
from app.runs.api_worker import batch_runner
from app.runs.redrive import RedriveVersion
from app.runs.redrive_activity import RedriveActivity, sign_batch
from app.runs.redrive_batch import RedriveBatchWorkflow
from app.runs.redrive_schemas import (
    BATCH_WORKFLOW,
    UNAUTHORIZED,
    RedriveBatch,
    RedriveTask,
    batch_workflow_id,
)
from app.settings import Settings
from interpreter.run_proof import RunKeys
from tests.app.test_redrive import _failed_runs
from tests.support.api import API, Actor, quota_api, run_becomes
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply


async def _batch(http: httpx.AsyncClient, actor: Actor, batch_id: str) -> httpx.Response:
    return await http.get(f"{API}/runs/redrive/{batch_id}", headers=actor.headers)


async def test_a_bulk_redrive_runs_as_a_batch_workflow_on_temporal(
    http: httpx.AsyncClient,
    worker: Worker,
    client: Client,
    settings: Settings,
    editor: Actor,
    other_editor: Actor,
    peer: Peer,
) -> None:
    _, run_ids = await _failed_runs(http, editor, peer, "/batch", 3)
    peer.route("/batch", Reply(200, {"ok": True}))
    selected = [*run_ids, "run-nope"]
    response = await http.post(
        f"{API}/runs/redrive",
        json={"run_ids": selected},
        headers={**editor.headers, "Idempotency-Key": f"batch-{uuid.uuid4().hex}"},
    )
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "succeeded"
    assert answer["total"] == 4
    assert [run["rerun_of"] for run in answer["runs"]] == run_ids
    # A run that cannot be redriven is listed with the status a single redrive answers.
    [refused] = answer["refused"]
    assert (refused["run_id"], refused["status"]) == ("run-nope", 404)
    for run in answer["runs"]:
        rerun = await run_becomes(http, editor, run["run_id"], "succeeded")
        assert rerun["rerun_of"] == run["rerun_of"]

    # The batch is a workflow of its own on the API's task queue.
    batch_id = answer["batch_id"]
    handle = client.get_workflow_handle(batch_workflow_id(editor.id, batch_id))
    described = await handle.describe()
    assert described.workflow_type == BATCH_WORKFLOW
    assert described.task_queue == settings.api_queue
    assert described.status == WorkflowExecutionStatus.COMPLETED
    # Its workflow code is deterministic: the history replays.
    replayer = Replayer(
        workflows=[RedriveBatchWorkflow],
        data_converter=client.data_converter,
        workflow_runner=batch_runner(),
    )
    await replayer.replay_workflow(await handle.fetch_history())

    # Its result stays readable, for its owner only.
    shown = await _batch(http, editor, batch_id)
    assert shown.status_code == 200, shown.text
    assert shown.json() == answer
    assert (await _batch(http, other_editor, batch_id)).status_code == 404
    assert (await _batch(http, editor, uuid.uuid4().hex)).status_code == 404

    # The same Idempotency-Key answers the same batch instead of redriving again.
    again = await http.post(
        f"{API}/runs/redrive",
        json={"run_ids": selected},
        headers={**editor.headers, "Idempotency-Key": response.request.headers["Idempotency-Key"]},
    )
    assert again.status_code == 202, again.text
    assert again.json() == answer
    other = await http.post(
        f"{API}/runs/redrive",
        json={"run_ids": run_ids[:1]},
        headers={**editor.headers, "Idempotency-Key": response.request.headers["Idempotency-Key"]},
    )
    assert other.status_code == 422, other.text
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"


async def test_a_batch_still_going_answers_running_and_is_followed(
    http: httpx.AsyncClient, worker: Worker, settings: Settings, editor: Actor, peer: Peer
) -> None:
    _, run_ids = await _failed_runs(http, editor, peer, "/going", 2)
    peer.route("/going", Reply(200, {"ok": True}))
    # A second replica on the same queues that answers before the batch is done:
    # both replicas' workers poll the API's task queue, either may run an attempt.
    replica_of = quota_api(settings, task_queue=settings.task_queue, redrive_wait_seconds=0)
    async with replica_of as replica:
        response = await replica.post(
            f"{API}/runs/redrive", json={"run_ids": run_ids}, headers=editor.headers
        )
        assert response.status_code == 202, response.text
        answer = response.json()
        assert answer["status"] == "running"
        assert len(answer["runs"]) + len(answer["refused"]) < len(run_ids)
        batch_id = answer["batch_id"]

        async def finished() -> dict[str, Any] | None:
            shown = await _batch(http, editor, batch_id)
            assert shown.status_code == 200, shown.text
            progress: dict[str, Any] = shown.json()
            return progress if progress["status"] == "succeeded" else None

        done = await eventually(finished, what="the redrive batch to finish")
        assert [run["rerun_of"] for run in done["runs"]] == run_ids
        assert done["refused"] == []


@pytest.mark.parametrize("forgery", ["unsigned", "other_key", "other_workflow"])
async def test_a_batch_started_straight_on_temporal_redrives_nothing(
    http: httpx.AsyncClient,
    worker: Worker,
    client: Client,
    settings: Settings,
    editor: Actor,
    other_editor: Actor,
    peer: Peer,
    forgery: str,
) -> None:
    """Someone who can start workflows on Temporal names another user's failed run."""
    _, [run_id] = await _failed_runs(http, editor, peer, f"/forged-{forgery}", 1)
    peer.route(f"/forged-{forgery}", Reply(200, {"ok": True}))
    batch_id = uuid.uuid4().hex
    workflow_id = batch_workflow_id(editor.id, batch_id)
    batch = RedriveBatch(
        batch_id=batch_id,
        workflow_id=workflow_id,
        owner_id=editor.id,
        run_ids=[run_id],
        version=RedriveVersion.SAME,
        issued_at=datetime.now(UTC),
        concurrency=1,
        attempts=1,
        run_timeout=30,
    )
    if forgery == "other_key":
        batch = sign_batch(batch, RunKeys(b"k" * 32))
    elif forgery == "other_workflow":
        # A batch the API really signed, copied to a workflow of the attacker's.
        batch = sign_batch(batch, settings.run_keys())
        workflow_id = batch_workflow_id(other_editor.id, batch_id)
    handle = await client.start_workflow(
        BATCH_WORKFLOW, batch, id=workflow_id, task_queue=settings.api_queue
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == UNAUTHORIZED
    assert ("signed for workflow" if forgery == "other_workflow" else "signature") in cause.message
    run = (await http.get(f"{API}/runs/{run_id}", headers=editor.headers)).json()
    assert run["reruns"] == []
    # The owner its id names sees it failed, with the reason.
    owner = other_editor if forgery == "other_workflow" else editor
    shown = (await _batch(http, owner, batch_id)).json()
    assert shown["status"] == "failed"
    assert shown["runs"] == []
    assert "sign" in shown["error"]


async def test_an_attempt_retried_on_another_replica_answers_the_run_already_started(
    http: httpx.AsyncClient,
    worker: Worker,
    app_state: AppState,
    settings: Settings,
    editor: Actor,
    peer: Peer,
) -> None:
    """The activity run straight (as a replica picking up a retry would), on the real stack."""
    _, [run_id] = await _failed_runs(http, editor, peer, "/retried", 1)
    peer.route("/retried", Reply(200, {"ok": True}))
    batch_id = uuid.uuid4().hex
    batch = sign_batch(
        RedriveBatch(
            batch_id=batch_id,
            workflow_id=batch_workflow_id(editor.id, batch_id),
            owner_id=editor.id,
            run_ids=[run_id],
            version=RedriveVersion.SAME,
            issued_at=datetime.now(UTC),
            concurrency=1,
            attempts=3,
            run_timeout=30,
        ),
        settings.run_keys(),
    )
    task = RedriveTask(batch=batch, run_id=run_id)
    activity = RedriveActivity(app_state).redrive_run
    outcomes = []
    for attempt in (1, 2):
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, workflow_id=batch.workflow_id, attempt=attempt)
        outcomes.append(await env.run(activity, task))
    first, second = outcomes
    assert first.run is not None
    assert second == first
    run = (await http.get(f"{API}/runs/{run_id}", headers=editor.headers)).json()
    assert run["reruns"] == [first.run.run_id]

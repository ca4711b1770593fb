"""Run proofs: only runs the API started may act for their owner, however they were started."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.worker import Worker

from app.runs.rerun import original_input
from app.settings import Settings
from app.triggers.hook_signature import sign
from interpreter.contract.client import start_run
from interpreter.contract.run import NodeSnapshot, RunInput
from interpreter.contract.signing import sign_run
from interpreter.run_proof import RunKeys, parse_signing_key
from tests.support.api import API, Actor, create_workflow, definition, run_becomes, run_of
from tests.support.eventually import eventually
from tests.support.peer import Peer
from tests.support.temporal import with_converter
from tests.support.workflows import snapshot
from worker.database import database_pool, stores
from worker.runtime import create_worker, http_client, node_activities
from worker.settings import WorkerSettings


async def store_secret(http: httpx.AsyncClient, actor: Actor) -> str:
    value = f"tok-{uuid.uuid4().hex}"
    response = await http.post(
        f"{API}/secrets", json={"name": "token", "value": value}, headers=actor.headers
    )
    assert response.status_code in (200, 201), response.text
    return value


def reading(peer: Peer, path: str = "/s", **extra: Any) -> dict[str, Any]:
    """One http node sending the owner's secret ``token`` to ``peer``."""
    call = {
        "id": "call",
        "type": "http",
        "config": {"url": f"{peer.url}{path}", "headers": {"X-Token": "{{ secrets.token }}"}},
    }
    return definition(nodes=[call], **extra)


def tokens(peer: Peer, path: str = "/s") -> list[str]:
    return [seen.headers.get("x-token", "") for seen in peer.hits(path)]


async def node_error(handle: WorkflowHandle[Any, Any], node: str = "call") -> NodeSnapshot:
    """The node once the run ended (it must have failed)."""
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    nodes = {n.id: n for n in (await snapshot(handle)).nodes}
    assert nodes[node].error is not None
    return nodes[node]


async def api_run_input(client: Client, run_id: str) -> RunInput:
    """The input (proof included) the API started ``run_id`` with, as Temporal shows it."""
    found = await original_input(client, client.get_workflow_handle(run_id))
    assert found is not None
    return found


async def started_directly(
    client: Client, run: RunInput, task_queue: str, run_id: str | None = None
) -> WorkflowHandle[Any, Any]:
    return await start_run(
        client, run, id=run_id or f"forged-{uuid.uuid4().hex}", task_queue=task_queue
    )


async def test_a_valid_proof_replayed_with_another_definition_or_run_id_or_input_fails(
    http: httpx.AsyncClient,
    worker: Worker,
    editor: Actor,
    peer: Peer,
    client: Client,
    settings: Settings,
) -> None:
    value = await store_secret(http, editor)
    run_id = await run_of(http, editor, reading(peer, "/ok", output="{{ nodes.call.output }}"))
    await run_becomes(http, editor, run_id, "succeeded")
    assert tokens(peer, "/ok") == [value]
    signed = await api_run_input(client, run_id)
    assert signed.proof is not None
    assert signed.proof.run_id == run_id
    stolen = reading(peer, "/stolen")
    other_definition = signed.model_copy(
        update={"definition": signed.definition.model_validate(stolen)}
    )
    other_input = signed.model_copy(update={"input": {"evil": True}})

    # The same id once the first run closed (Temporal allows it), another id, another input.
    attempts = [
        (other_definition, run_id, "another definition"),
        (signed, None, "another run"),
        (other_input, run_id, "another input"),
    ]
    for forged, reuse_id, reason in attempts:
        handle = await started_directly(client, forged, settings.task_queue, reuse_id)
        failed = await node_error(handle)
        assert failed.error is not None
        assert failed.error.type == "Unauthorized", failed.error
        assert reason in failed.error.message
    assert tokens(peer, "/stolen") == []
    assert tokens(peer, "/ok") == [value]


async def test_a_rerun_a_hook_and_an_event_read_their_owners_secrets(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    value = await store_secret(http, editor)
    event = f"proof.{uuid.uuid4().hex[:8]}"
    body = reading(peer, triggers=[{"type": "event", "event": event}])
    workflow = await create_workflow(http, editor, body)
    first = (
        await http.post(f"{API}/workflows/{workflow['id']}/runs", json={}, headers=editor.headers)
    ).json()["run_id"]
    await run_becomes(http, editor, first, "succeeded")

    rerun = await http.post(f"{API}/runs/{first}/rerun", headers=editor.headers)
    assert rerun.status_code == 202, rerun.text
    hook = await http.post(f"{API}/workflows/{workflow['id']}/webhooks", headers=editor.headers)
    payload = json.dumps({"lead": 1}).encode()
    now = str(int(time.time()))
    hooked = await http.post(
        httpx.URL(hook.json()["url"]).path,
        content=payload,
        headers={
            "Content-Type": "application/json",
            "X-Timestamp": now,
            "X-Signature": sign(hook.json()["secret"], payload, now),
        },
    )
    assert hooked.status_code == 202, hooked.text
    sent = await http.post(
        f"{API}/events", json={"type": event, "payload": {}}, headers=editor.headers
    )
    assert sent.status_code == 202, sent.text
    (evented,) = sent.json()["runs"]

    for run_id in (rerun.json()["run_id"], hooked.json()["run_id"], evented["run_id"]):
        await run_becomes(http, editor, run_id, "succeeded")
    assert tokens(peer) == [value] * 4


async def test_a_scheduled_run_reads_its_owners_secret(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    value = await store_secret(http, editor)
    workflow = await create_workflow(http, editor, reading(peer))
    created = await http.post(
        f"{API}/workflows/{workflow['id']}/schedules",
        json={"cron": "0 3 * * *", "paused": True},
        headers=editor.headers,
    )
    assert created.status_code == 201, created.text
    sid = created.json()["schedule_id"]

    triggered = await http.post(f"{API}/schedules/{sid}/trigger", headers=editor.headers)
    assert triggered.status_code == 202, triggered.text

    await eventually(lambda: tokens(peer) or None, what="the scheduled run's call")
    assert tokens(peer) == [value]
    await http.delete(f"{API}/schedules/{sid}", headers=editor.headers)


async def test_a_sub_workflow_and_a_batched_for_each_read_their_owners_secret(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer, settings: Settings
) -> None:
    value = await store_secret(http, editor)
    child = await create_workflow(http, editor, reading(peer, "/child"))
    items = settings.run.for_each_batch_threshold + 1
    body = definition(
        nodes=[
            {"id": "sub", "type": "sub_workflow", "config": {"workflow_id": child["id"]}},
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": str(list(range(items))),
                    "max_concurrency": 50,
                    "body": {
                        "nodes": [
                            {
                                "id": "call",
                                "type": "http",
                                "config": {
                                    "url": f"{peer.url}/item",
                                    "headers": {"X-Token": "{{ secrets.token }}"},
                                },
                            }
                        ]
                    },
                },
            },
        ]
    )
    run_id = await run_of(http, editor, body)

    await run_becomes(http, editor, run_id, "succeeded")
    assert tokens(peer, "/child") == [value]
    assert tokens(peer, "/item") == [value] * items


async def test_a_pinned_child_proof_does_not_work_outside_its_parent(
    http: httpx.AsyncClient,
    worker: Worker,
    editor: Actor,
    peer: Peer,
    client: Client,
    settings: Settings,
) -> None:
    await store_secret(http, editor)
    child = await create_workflow(http, editor, reading(peer, "/child"))
    parent = definition(
        nodes=[{"id": "sub", "type": "sub_workflow", "config": {"workflow_id": child["id"]}}]
    )
    run_id = await run_of(http, editor, parent)
    await run_becomes(http, editor, run_id, "succeeded")
    signed = await api_run_input(client, run_id)
    (pinned,) = signed.children.values()
    assert pinned.proof is not None
    # As if it were the child: its definition and proof, under an id like the child's.
    claimed = signed.model_copy(
        update={
            "definition": pinned.definition,
            "meta": signed.meta.model_copy(
                update={"workflow_id": pinned.workflow_id, "version": pinned.version}
            ),
            "proof": pinned.proof,
        }
    )
    handle = await started_directly(client, claimed, settings.task_queue, f"{run_id}/sub")

    failed = await node_error(handle)

    assert failed.error is not None
    assert failed.error.type == "Unauthorized"
    assert len(tokens(peer, "/child")) == 1


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
async def rotated_worker(
    settings: Settings, temporal_client: Client, task_queue: str
) -> AsyncIterator[tuple[str, str]]:
    """A worker whose signing key was rotated: (old key, its task queue)."""
    old, current = new_key(), new_key()
    worker_settings = WorkerSettings(
        DATABASE_URL=settings.database_url,
        data_dir=settings.data_dir,
        environment="test",
        egress_allow=["127.0.0.1/32"],
        graceful_shutdown_seconds=0,
        run_signing_key=current,
        run_signing_previous_keys=[old],
    )
    async with (
        http_client(worker_settings) as pool_http,
        database_pool(worker_settings) as pool,
    ):
        activities = node_activities(worker_settings, pool_http, stores(worker_settings, pool))
        async with create_worker(
            with_converter(temporal_client),
            worker_settings,
            task_queue=task_queue,
            activities=activities,
        ):
            yield old, task_queue


async def test_a_rotated_key_still_accepts_runs_the_old_key_signed(
    http: httpx.AsyncClient,
    editor: Actor,
    peer: Peer,
    client: Client,
    rotated_worker: tuple[str, str],
) -> None:
    old, task_queue = rotated_worker
    value = await store_secret(http, editor)
    workflow = await create_workflow(http, editor, reading(peer))
    run_id = await run_of(http, editor, reading(peer, "/other"))
    template = await api_run_input(client, run_id)
    run = template.model_copy(
        update={
            "definition": template.definition.model_validate(reading(peer)),
            "meta": template.meta.model_copy(update={"workflow_id": workflow["id"]}),
        }
    )
    fresh, other = f"run-{uuid.uuid4().hex}", f"run-{uuid.uuid4().hex}"
    before_rotation = sign_run(run, fresh, RunKeys(parse_signing_key(old)))
    unknown = sign_run(run, other, RunKeys(parse_signing_key(new_key())))

    await (await started_directly(client, before_rotation, task_queue, fresh)).result()
    failed = await node_error(await started_directly(client, unknown, task_queue, other))

    assert tokens(peer) == [value]
    assert failed.error is not None
    assert "bad signature" in failed.error.message

"""Two ``python -m worker`` processes on one task queue share their circuit breakers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle

from app.db.migrations import upgrade_to_head
from interpreter.contract.client import start_run
from interpreter.contract.run import RunInput, RunMeta
from interpreter.contract.signing import sign_run
from interpreter.validation.definition import validate_definition
from tests.support.activities import TEST_KEYS, TEST_RUN_KEY
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply, Seen
from tests.support.temporal import TEST_PAYLOAD_KEY, with_converter

SERVICE_DOWN_FOR = 1.0
"""Seconds the failing upstream holds each request: long enough that both workers,
one activity slot each, must take one of two calls started together."""

OWNER = "breaker-owner"
"""Whose runs these are: the breaker is this owner's."""

SELECT = "SELECT * FROM circuit_breakers WHERE service = $1 AND owner = $2"


@pytest.fixture
def plain_url(database_url: str) -> str:
    upgrade_to_head(database_url)  # a no-op when another test already migrated it
    return database_url.replace("+asyncpg", "")


@pytest.fixture
def workers(
    temporal_client: Client, plain_url: str, task_queue: str, tmp_path: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal_client.service_client.config.target_host,
        "FLOWFORGE_PAYLOAD_KEY": TEST_PAYLOAD_KEY,
        "FLOWFORGE_RUN_SIGNING_KEY": TEST_RUN_KEY,
        "FLOWFORGE_TASK_QUEUE": task_queue,
        "FLOWFORGE_EGRESS_ALLOW": "127.0.0.1/32",
        "DATABASE_URL": plain_url,
        "FLOWFORGE_DATA_DIR": str(tmp_path),
        "FLOWFORGE_MAX_CONCURRENT_ACTIVITIES": "1",
        "FLOWFORGE_GRACEFUL_SHUTDOWN_SECONDS": "0",
        "FLOWFORGE_METRICS_PORT": "0",
    }
    processes = [subprocess.Popen([sys.executable, "-m", "worker"], env=env) for _ in range(2)]
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def activity_pollers(client: Client, queue: str) -> set[str]:
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
    )
    return {poller.identity for poller in response.pollers}


async def both_polling(client: Client, queue: str) -> None:

    async def polling() -> bool:
        return len(await activity_pollers(client, queue)) >= 2

    await eventually(polling, within=30, what="the two workers to both poll")


def definition(url: str, service: str, attempts: int) -> Any:
    parsed, issues = validate_definition(
        {
            "name": "guarded",
            "nodes": [
                {
                    "id": "call",
                    "type": "http",
                    "circuit_breaker": service,
                    "retry": {"max_attempts": attempts, "initial_interval": "100ms"},
                    "config": {"url": url},
                }
            ],
            "output": "{{ nodes.call.output.body }}",
        }
    )
    assert parsed is not None, issues
    return parsed


LOCAL_ACTIVITY = "core_local_activity"
"""The marker a local activity's result is recorded in."""


async def start(client: Client, queue: str, url: str, service: str, attempts: int = 1) -> Any:
    meta = RunMeta(workflow_id="w", version=1, owner=OWNER)
    run_id = f"run-{uuid.uuid4().hex[:10]}"
    # Signed as the API signs its runs: breakers are the proven owner's only.
    run = sign_run(
        RunInput(definition=definition(url, service, attempts), meta=meta), run_id, TEST_KEYS
    )
    return await start_run(client, run, id=run_id, task_queue=queue)


async def failure_of(handle: WorkflowHandle[Any, Any]) -> str:
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), 30)
    return str(failed.value.cause)


async def worker_that_ran(handle: WorkflowHandle[Any, Any]) -> str:
    """The worker of the node's activity: a regular one's, or the workflow task's of a local one."""
    task_worker = ""
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            return event.activity_task_started_event_attributes.identity
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            task_worker = event.workflow_task_completed_event_attributes.identity
        marker = event.marker_recorded_event_attributes.marker_name
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED and marker == LOCAL_ACTIVITY:
            # A local activity's result is recorded with the completion of the task that ran it.
            return task_worker
    raise AssertionError("no activity started")


async def test_workers_share_one_breaker_through_postgres(
    temporal_client: Client,
    workers: list[subprocess.Popen[bytes]],
    task_queue: str,
    plain_url: str,
    peer: Peer,
) -> None:
    service = f"svc-{uuid.uuid4().hex[:10]}"
    database = await asyncpg.connect(plain_url)
    try:
        await database.execute(
            "INSERT INTO circuit_breakers (service, owner, failure_threshold, reset_timeout) "
            "VALUES ($1, $2, 2, 3.0)",
            service,
            OWNER,
        )
        up = asyncio.Event()

        def upstream(_seen: Seen) -> Reply:
            return Reply(body={"ok": True}) if up.is_set() else Reply(503, delay=SERVICE_DOWN_FOR)

        peer.route("/api", upstream)
        url = f"{peer.url}/api"
        client = with_converter(temporal_client)
        await both_polling(client, task_queue)

        # One failure on each worker: together they reach the threshold of 2.
        failing = [await start(client, task_queue, url, service) for _ in range(2)]
        for handle in failing:
            assert "503" in await failure_of(handle)
        assert len({await worker_that_ran(handle) for handle in failing}) == 2
        row = await database.fetchrow(SELECT, service, OWNER)
        assert (row["state"], row["failures"]) == ("open", 2)

        # Whichever worker takes them now, the breaker is open: no call goes out.
        refused = [await start(client, task_queue, url, service) for _ in range(2)]
        for handle in refused:
            assert "circuit breaker" in await failure_of(handle)
        assert len(peer.hits("/api")) == 2

        # Recovered: an attempt refused while open is retried when the breaker may
        # half-open (CircuitOpen's retry_after); its probe succeeds and closes it.
        up.set()
        recovering = await start(client, task_queue, url, service, attempts=5)
        assert await asyncio.wait_for(recovering.result(), 30) == {"ok": True}
        row = await database.fetchrow(SELECT, service, OWNER)
        assert (row["state"], row["failures"], row["half_open_calls"]) == ("closed", 0, 0)
        assert len(peer.hits("/api")) == 3
    finally:
        await database.close()

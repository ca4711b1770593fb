"""A worker killed mid-node: another worker takes it up within seconds, not the node's 30 s
timeout. A regular activity's heartbeats stop and Temporal retries it after the run's heartbeat
timeout (10 s); a local activity's workflow task times out (10 s) and the next worker runs the
node's attempt again. Either way the peer sees the call at least once, with one key."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle

from interpreter.contract.client import start_run
from interpreter.contract.run import NodeSnapshot, RunInput, RunMeta
from interpreter.contract.signing import sign_run
from interpreter.validation.definition import validate_definition
from tests.support.activities import TEST_KEYS, TEST_RUN_KEY
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply
from tests.support.temporal import TEST_PAYLOAD_KEY, with_converter
from tests.support.workflows import snapshot

RETRIED_WITHIN = 25.0
"""Seconds from the kill to the second attempt's request: the 10 s heartbeat timeout, the
retry's 1 s backoff and slack for a busy shared machine. Still under the 31 s a retry after
the node's own 30 s timeout would take, so a pass proves the heartbeat noticed."""

HELD_FOR = 120.0
"""Seconds the peer holds a first request: far past every timeout, so only a lost
heartbeat can end that attempt."""


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    """The worker processes :func:`start_worker` started; each is killed at the end."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(15)


def start_worker(
    processes: list[subprocess.Popen[bytes]], client: Client, queue: str, data_dir: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "FLOWFORGE_PAYLOAD_KEY": TEST_PAYLOAD_KEY,
        "FLOWFORGE_RUN_SIGNING_KEY": TEST_RUN_KEY,
        "FLOWFORGE_TASK_QUEUE": queue,
        "FLOWFORGE_EGRESS_ALLOW": "127.0.0.1/32",
        "FLOWFORGE_DATA_DIR": str(data_dir),
        "FLOWFORGE_GRACEFUL_SHUTDOWN_SECONDS": "0",
        "FLOWFORGE_METRICS_PORT": "0",
    }
    process = subprocess.Popen([sys.executable, "-m", "worker"], env=env)
    processes.append(process)
    return process


async def start(
    client: Client, queue: str, url: str, max_attempts: int, execution: str = "activity"
) -> Any:
    definition, issues = validate_definition(
        {
            "name": "held",
            "nodes": [
                {
                    "id": "call",
                    "type": "http",
                    "retry": {"max_attempts": max_attempts},
                    "config": {"url": url},
                    "execution": execution,
                    "idempotency": True,
                }
            ],
            "output": "{{ nodes.call.output.body }}",
        }
    )
    assert definition is not None, issues
    run_id = f"run-{uuid.uuid4().hex[:10]}"
    meta = RunMeta(workflow_id="w", version=1, owner="lost-owner")
    # The run's options are RunOptions' defaults: the heartbeat timeout under test.
    run = sign_run(RunInput(definition=definition, meta=meta), run_id, TEST_KEYS)
    return await start_run(client, run, id=run_id, task_queue=queue)


async def node(handle: WorkflowHandle[Any, Any]) -> NodeSnapshot:
    [call] = (await snapshot(handle)).nodes
    return call


async def test_a_killed_workers_node_is_retried_on_another_worker_within_seconds(
    temporal_client: Client, spawn: list[subprocess.Popen[bytes]], task_queue: str, tmp_path: Path
) -> None:
    retried_peer, last_peer = Peer(), Peer()
    try:
        retried_peer.script("/held", [Reply(delay=HELD_FOR), Reply(body={"done": True})])
        last_peer.route("/held", Reply(delay=HELD_FOR))
        client = with_converter(temporal_client)
        first = start_worker(spawn, temporal_client, task_queue, tmp_path)
        retried = await start(client, task_queue, f"{retried_peer.url}/held", max_attempts=3)
        last_try = await start(client, task_queue, f"{last_peer.url}/held", max_attempts=1)
        await eventually(
            lambda: bool(retried_peer.hits("/held") and last_peer.hits("/held")),
            within=60,
            what="the first worker to call both peers",
        )

        first.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        start_worker(spawn, temporal_client, task_queue, tmp_path)

        second = await eventually(
            lambda: len(retried_peer.hits("/held")) >= 2 and retried_peer.hits("/held")[1],
            within=60,
            what="the node's second attempt",
        )
        retried_after = second.at - killed_at
        print(f"the node was retried {retried_after:.1f}s after its worker was killed")
        assert retried_after < RETRIED_WITHIN

        assert await asyncio.wait_for(retried.result(), 60) == {"done": True}
        call = await node(retried)
        assert (call.status.value, call.attempts) == ("succeeded", 2)
        keys = {seen.headers.get("idempotency-key") for seen in retried_peer.hits("/held")}
        assert len(keys) == 1
        assert None not in keys

        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(last_try.result(), 60)
        call = await node(last_try)
        assert call.status.value == "failed"
        assert call.attempts == 1
        assert call.error is not None
        assert call.error.type == "WorkerLost"
        assert "no heartbeat for 10s" in call.error.message
        assert "start_to_close" not in call.error.message
        assert call.error.details["timeout"] == "heartbeat"
        assert len(last_peer.hits("/held")) == 1
    finally:
        retried_peer.close()
        last_peer.close()


async def test_a_killed_workers_local_node_runs_again_on_another_worker_with_its_key(
    temporal_client: Client, spawn: list[subprocess.Popen[bytes]], task_queue: str, tmp_path: Path
) -> None:
    peer = Peer()
    try:
        peer.script("/held", [Reply(delay=HELD_FOR), Reply(body={"done": True})])
        client = with_converter(temporal_client)
        first = start_worker(spawn, temporal_client, task_queue, tmp_path)
        run = await start(client, task_queue, f"{peer.url}/held", max_attempts=1, execution="local")
        await eventually(lambda: bool(peer.hits("/held")), within=60, what="the first call")

        first.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        start_worker(spawn, temporal_client, task_queue, tmp_path)

        second = await eventually(
            lambda: len(peer.hits("/held")) >= 2 and peer.hits("/held")[1],
            within=60,
            what="the node's attempt on the second worker",
        )
        print(f"the node ran again {second.at - killed_at:.1f}s after its worker was killed")
        assert second.at - killed_at < RETRIED_WITHIN

        assert await asyncio.wait_for(run.result(), 60) == {"done": True}
        call = await node(run)
        # The killed attempt never reached the history: the node made one attempt, twice.
        assert (call.status.value, call.attempts) == ("succeeded", 1)
        keys = {seen.headers.get("idempotency-key") for seen in peer.hits("/held")}
        assert len(keys) == 1
        assert None not in keys
        async for event in run.fetch_history_events():
            assert event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    finally:
        peer.close()

"""The worker process: it runs definitions, logs JSON lines, and on SIGTERM lets running
activities finish."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
from temporalio.client import Client

from interpreter.contract.client import start_run
from interpreter.contract.run import RunInput, RunMeta
from interpreter.validation.definition import validate_definition
from tests.support.peer import Peer, Reply
from tests.support.ports import free_ports
from tests.support.temporal import TEST_PAYLOAD_KEY, with_converter


async def test_sigterm_lets_the_running_request_finish(temporal_client: Client, peer: Peer) -> None:
    peer.route("/slow", Reply(body={"done": True}, delay=2.0))
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal_client.service_client.config.target_host,
        "FLOWFORGE_PAYLOAD_KEY": TEST_PAYLOAD_KEY,
        "FLOWFORGE_TASK_QUEUE": queue,
        "FLOWFORGE_EGRESS_ALLOW": "127.0.0.1/32",
        "FLOWFORGE_GRACEFUL_SHUTDOWN_SECONDS": "20",
        "FLOWFORGE_METRICS_PORT": str(free_ports(1)[0]),
    }
    process = subprocess.Popen([sys.executable, "-m", "worker"], env=env)
    try:
        definition, _ = validate_definition(
            {
                "name": "slow",
                "nodes": [
                    {
                        "id": "call",
                        "type": "http",
                        "config": {"method": "GET", "url": f"{peer.url}/slow"},
                    }
                ],
                "output": "{{ nodes.call.output.body }}",
            }
        )
        assert definition is not None
        client = with_converter(temporal_client)
        run = RunInput(definition=definition, meta=RunMeta(workflow_id="w", version=1))
        handle = await start_run(client, run, id=f"run-{uuid.uuid4().hex[:8]}", task_queue=queue)
        deadline = asyncio.get_running_loop().time() + 30
        while not peer.hits("/slow"):
            assert asyncio.get_running_loop().time() < deadline, "the worker never called the peer"
            await asyncio.sleep(0.05)
        metrics_url = f"http://127.0.0.1:{env['FLOWFORGE_METRICS_PORT']}/metrics"
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(metrics_url)).text
        assert "temporal_" in metrics
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
        assert code == 0
        # The request in flight completed and its result was reported before exit.
        assert len(peer.hits("/slow")) == 1
        second = subprocess.Popen([sys.executable, "-m", "worker"], env=env)
        try:
            assert await asyncio.wait_for(handle.result(), 30) == {"done": True}
        finally:
            second.terminate()
            second.wait(15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_the_worker_logs_json_lines_at_the_level_its_settings_say(
    temporal_client: Client, tmp_path: Path
) -> None:
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal_client.service_client.config.target_host,
        "FLOWFORGE_PAYLOAD_KEY": TEST_PAYLOAD_KEY,
        "FLOWFORGE_TASK_QUEUE": queue,
        "FLOWFORGE_LOG_LEVEL": "WARNING",
        "FLOWFORGE_GRACEFUL_SHUTDOWN_SECONDS": "5",
    }
    definition, _ = validate_definition(
        {
            "name": "chatty",
            "nodes": [
                {"id": "quiet", "type": "log", "config": {"message": "below the level"}},
                {"id": "loud", "type": "log", "config": {"message": "heard", "level": "warning"}},
            ],
            "edges": [{"from": "quiet", "to": "loud"}],
        }
    )
    assert definition is not None
    stderr_path = tmp_path / "stderr"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "worker"], env=env, stderr=stderr)
    try:
        client = with_converter(temporal_client)
        run = RunInput(definition=definition, meta=RunMeta(workflow_id="w", version=1))
        handle = await start_run(client, run, id=f"run-{uuid.uuid4().hex[:8]}", task_queue=queue)
        await asyncio.wait_for(handle.result(), 30)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    lines = [json.loads(line) for line in stderr_path.read_text().splitlines() if line.strip()]
    heard = [line for line in lines if line["message"].startswith("heard")]
    assert len(heard) == 1, lines
    assert heard[0]["level"] == "WARNING"
    assert heard[0]["flowforge_run_id"] == handle.id
    assert heard[0]["flowforge_node_id"] == "loud"
    assert {line["level"] for line in lines} <= {"WARNING", "ERROR", "CRITICAL"}
    assert not [line for line in lines if "below the level" in line["message"]]


def test_invalid_settings_stop_the_worker_with_a_json_line_naming_them() -> None:
    env = {**os.environ, "FLOWFORGE_LOG_LEVEL": "LOUD"}
    result = subprocess.run(
        [sys.executable, "-m", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    [line] = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert line["level"] == "ERROR"
    assert "log_level" in line["message"]

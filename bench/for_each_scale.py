"""for_each at scale: 100,000 items of a trivial body through one run.

    python bench/for_each_scale.py [--items 100000]

Starts a dev server and one worker process, runs the definition, then reports
wall time, the longest history of any execution of the run (the parent and
its batch children) and the worker's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.testing import WorkflowEnvironment

from app.devstack.temporal import temporal_cli_path
from interpreter.contract import search_attributes
from interpreter.contract.client import connect, start_run
from interpreter.contract.run import RunInput, RunMeta, RunOptions
from interpreter.validation.definition import validate_definition
from worker.settings import WorkerSettings

QUEUE = "bench-for-each"

DEFINITION = {
    "name": "scale",
    "nodes": [
        {"id": "items", "type": "transform", "config": {"value": "{{ input.items }}"}},
        {
            "id": "each",
            "type": "for_each",
            "config": {
                "items": "nodes.items.output",
                "max_concurrency": 100,
                "body": {
                    "nodes": [
                        {"id": "sq", "type": "transform", "config": {"value": "{{ item * 2 }}"}}
                    ],
                    "output": "{{ nodes.sq.output }}",
                },
            },
        },
        {"id": "count", "type": "transform", "config": {"value": "{{ size(nodes.each.output) }}"}},
    ],
    "edges": [{"from": "items", "to": "each"}, {"from": "each", "to": "count"}],
    "output": "{{ nodes.count.output }}",
}


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main(count: int) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
    )
    address = env.client.service_client.config.target_host
    worker = subprocess.Popen(
        [sys.executable, "-m", "worker"],
        env={**os.environ, "TEMPORAL_ADDRESS": address, "FLOWFORGE_TASK_QUEUE": QUEUE},
        stderr=subprocess.DEVNULL,
    )
    try:
        # The worker's key: the same FLOWFORGE_PAYLOAD_KEY, or the same data_dir's key file.
        client = await connect(address, converter=WorkerSettings().data_converter())
        definition, issues = validate_definition(DEFINITION)
        assert definition is not None, issues
        run = RunInput(
            definition=definition,
            input={"items": list(range(count))},
            meta=RunMeta(workflow_id="bench", version=1),
            options=RunOptions(),
        )
        run_id = f"scale-{uuid.uuid4().hex[:8]}"
        began = time.perf_counter()
        handle = await start_run(client, run, id=run_id, task_queue=QUEUE)
        result = await handle.result()
        wall = time.perf_counter() - began
        assert result == count, result
        longest, executions = 0, 0
        query = f"WorkflowId = '{run_id}' OR WorkflowId STARTS_WITH '{run_id}/'"
        async for execution in client.list_workflows(query):
            executions += 1
            longest = max(longest, execution.history_length)
        print(f"items:                 {count}")
        print(f"wall time:             {wall:.1f} s ({count / wall:.0f} items/s)")
        print(f"executions:            {executions} (the run and its batch children)")
        print(f"longest history:       {longest} events (Temporal's limit: 51,200)")
        print(f"worker peak RSS:       {peak_rss_mib(worker.pid):.0f} MiB")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        await env.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().items))

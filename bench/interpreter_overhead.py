"""Interpreter overhead: a JSON DAG through InterpreterWorkflow vs a hand-written
Temporal workflow doing the same work (same activity, server and worker).

    python bench/interpreter_overhead.py [--iterations 15]

Runs alternate (interpreted, hand-written, interpreted, ...) so that machine
noise hits both alike; the ratio is of the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from app.devstack.temporal import temporal_cli_path
from bench.definitions import diamond, fan_out, sequential
from bench.handwritten import Diamond, FanOutJoin, SequentialCalls
from bench.peer import peer_process
from interpreter.contract import search_attributes
from interpreter.contract.client import start_run
from interpreter.contract.run import RunInput, RunMeta
from interpreter.validation.definition import validate_definition
from worker.runtime import create_worker
from worker.settings import WorkerSettings

QUEUE = "bench"


async def timed(coro: Any) -> float:
    began = time.perf_counter()
    await coro
    return time.perf_counter() - began


async def interpreted(client: Client, definition: dict[str, Any]) -> None:
    parsed, issues = validate_definition(definition)
    assert parsed is not None, issues
    run = RunInput(definition=parsed, meta=RunMeta(workflow_id="bench", version=1))
    handle = await start_run(client, run, id=f"i-{uuid.uuid4().hex}", task_queue=QUEUE)
    await handle.result()


async def handwritten(client: Client, workflow: Any, *args: Any) -> None:
    await client.execute_workflow(
        workflow.run, args=list(args), id=f"h-{uuid.uuid4().hex}", task_queue=QUEUE
    )


async def main(iterations: int) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
    )
    peer = contextlib.ExitStack()
    # The peer answers in well under 1 ms, so the figures are the engine's own.
    url = f"{peer.enter_context(peer_process())}/ok"
    settings = WorkerSettings(task_queue=QUEUE, egress_allow=["127.0.0.1/32"])
    config = env.client.config()
    # Payloads sealed as in production: the codec's cost is part of the overhead.
    config["data_converter"] = settings.data_converter()
    client = Client(**config)
    cases = [
        ("20 sequential http calls", sequential(url, 20), SequentialCalls, (url, 20)),
        ("100-wide fan-out then join", fan_out(url, 100), FanOutJoin, (url, 100)),
        ("10-node diamond", diamond(url, 8), Diamond, (url, 8)),
    ]
    try:
        async with create_worker(
            client, settings, workflows=[SequentialCalls, FanOutJoin, Diamond]
        ):
            print(f"{'case':<30} {'interpreter':>12} {'hand-written':>13} {'ratio':>7}")
            for label, definition, workflow, args in cases:
                for _ in range(2):  # warm-up: sandbox imports, connection pool
                    await interpreted(client, definition)
                    await handwritten(client, workflow, *args)
                ours: list[float] = []
                theirs: list[float] = []
                for i in range(iterations):
                    # Alternate which goes first so drift favours neither.
                    if i % 2:
                        theirs.append(await timed(handwritten(client, workflow, *args)))
                        ours.append(await timed(interpreted(client, definition)))
                    else:
                        ours.append(await timed(interpreted(client, definition)))
                        theirs.append(await timed(handwritten(client, workflow, *args)))
                a, b = statistics.median(ours), statistics.median(theirs)
                print(f"{label:<30} {a * 1000:>10.1f}ms {b * 1000:>11.1f}ms {a / b:>7.3f}")
    finally:
        peer.close()
        await env.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=15)
    asyncio.run(main(parser.parse_args().iterations))

"""Short nodes as local activities: the 20-node http chain, regular vs local, vs hand-written.

    python bench/local_activities.py [--iterations 15]

Four runs alternate: the interpreter with every node a regular activity
(``local_activity_max_seconds: 0``), the interpreter as it runs by default
(local activities), and hand-written workflows with regular and with local
activities. The peer answers in one write (no Nagle/delayed-ACK stall), so
the figures are the engine's cost. Medians; ratios against hand-written local.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from app.devstack.temporal import temporal_cli_path
from bench.definitions import sequential
from bench.handwritten import SequentialCalls
from bench.handwritten_local import SequentialLocalCalls
from bench.interpreter_overhead import QUEUE
from interpreter.contract import search_attributes
from interpreter.contract.client import start_run
from interpreter.contract.run import RunInput, RunMeta, RunOptions
from interpreter.validation.definition import validate_definition
from worker.runtime import create_worker
from worker.settings import WorkerSettings

REPLY = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
)


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every request on the connection at once, headers and body in one write."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
            writer.write(REPLY)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
        pass  # the client closed the connection, or the bench ends
    finally:
        writer.close()


async def main(iterations: int) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
    )
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/ok"
    settings = WorkerSettings(task_queue=QUEUE, egress_allow=["127.0.0.1/32"])
    config = env.client.config()
    config["data_converter"] = settings.data_converter()
    client = Client(**config)
    parsed, issues = validate_definition(sequential(url, 20))
    assert parsed is not None, issues

    async def interpreted(limit: float) -> None:
        run = RunInput(
            definition=parsed,
            meta=RunMeta(workflow_id="bench", version=1),
            options=RunOptions(local_activity_max_seconds=limit),
        )
        handle = await start_run(client, run, id=f"i-{uuid.uuid4().hex}", task_queue=QUEUE)
        await handle.result()

    async def handwritten(workflow: Any) -> None:
        await client.execute_workflow(
            workflow.run, args=[url, 20], id=f"h-{uuid.uuid4().hex}", task_queue=QUEUE
        )

    cases: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("interpreter, regular activities", lambda: interpreted(0)),
        ("interpreter, local activities", lambda: interpreted(30)),
        ("hand-written, regular activities", lambda: handwritten(SequentialCalls)),
        ("hand-written, local activities", lambda: handwritten(SequentialLocalCalls)),
    ]
    times: dict[str, list[float]] = {label: [] for label, _ in cases}
    try:
        async with create_worker(
            client, settings, workflows=[SequentialCalls, SequentialLocalCalls]
        ):
            for _, run in cases * 2:  # warm-up: sandbox imports, connection pool
                await run()
            for i in range(iterations):
                order = cases[i % len(cases) :] + cases[: i % len(cases)]
                for label, run in order:
                    began = time.perf_counter()
                    await run()
                    times[label].append(time.perf_counter() - began)
        best = statistics.median(times["hand-written, local activities"])
        print("20 sequential http calls, through the worker (medians)")
        for label, _ in cases:
            median = statistics.median(times[label])
            print(f"{label:<34} {median * 1000:>8.1f}ms {median / best:>6.2f}x")
    finally:
        server.close()
        await env.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=15)
    asyncio.run(main(parser.parse_args().iterations))

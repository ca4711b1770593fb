"""The worker's own costs: memory per parked run, CPU spent creating sandboxed runs.

    python bench/worker_footprint.py park [--kind interpreted|handwritten|both]
        [--measure rss|heap] [--runs 200] [--rounds 3]
    python bench/worker_footprint.py cpu [--runs 300] [--clients 16]

``park`` starts ``--runs`` runs that wait on a signal (an interpreter run with
one ``wait_for_signal`` node, or ``bench.parked.ParkedOnSignal``), waits until
the worker holds each one (its first workflow task completed) and prints
what the worker process grew by, divided by the runs: its RSS
(``--measure rss``), or the Python heap tracemalloc traces (``--measure heap``:
what Python objects take, without the allocator's and the SDK's Rust core's
own memory, and nearly free of the noise other processes on the machine add
to RSS; tracing costs memory of its own, so the RSS of such a process is not
shown). Run each kind in its own process: freed memory a first measurement
leaves behind would make the second look cheaper. ``--kind both`` does that
for you: ``--rounds`` rounds, each measuring both kinds both ways in fresh
processes (which kind goes first alternates), then the medians and their
ratio, interpreted / hand-written.

``cpu`` runs 3-node http workflows and prints the share of this process's
CPU time spent creating sandboxed workflow instances (the sandbox importing
the workflow's module and building the instance) and building pydantic
TypeAdapters, both timed per thread around the SDK's own calls.

Both use a dev server in memory with FlowForge's dynamic config and one
worker in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil
import pydantic
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker.workflow_sandbox import _runner

from app.devstack.temporal import dynamic_config_flags, temporal_cli_path
from bench.definitions import sequential
from bench.interpreter_overhead import QUEUE, interpreted
from bench.parked import ParkedOnSignal
from bench.peer import peer_process
from interpreter.contract import search_attributes
from interpreter.contract.client import start_run
from interpreter.contract.run import RunInput, RunMeta
from interpreter.validation.definition import validate_definition
from worker.runtime import create_worker
from worker.settings import WorkerSettings

PARKED = {
    "name": "parked",
    "nodes": [{"id": "wait", "type": "wait_for_signal", "config": {"signal": "go"}}],
    "output": "{{ nodes.wait.output }}",
}


def rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def heap() -> int:
    """Bytes of the Python objects alive now, as tracemalloc traces them."""
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def held(handle: WorkflowHandle[Any, Any]) -> None:
    """Until the run's first workflow task completed: the worker then keeps it cached."""
    while True:
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                return
        await asyncio.sleep(0.2)


async def start_parked(client: Client, kind: str) -> WorkflowHandle[Any, Any]:
    if kind == "handwritten":
        return await client.start_workflow(
            ParkedOnSignal.run, id=f"h-{uuid.uuid4().hex}", task_queue=QUEUE
        )
    parsed, issues = validate_definition(PARKED)
    assert parsed is not None, issues
    run = RunInput(definition=parsed, meta=RunMeta(workflow_id="bench", version=1))
    return await start_run(client, run, id=f"i-{uuid.uuid4().hex}", task_queue=QUEUE)


async def park(client: Client, kind: str, runs: int, measure: str) -> None:
    weigh = heap if measure == "heap" else rss
    warm = [await start_parked(client, kind) for _ in range(5)]
    await asyncio.gather(*(held(h) for h in warm))
    before, threads = weigh(), psutil.Process().num_threads()
    # One at a time: started together, they would spawn workflow-task threads (and
    # their malloc arenas) as their first tasks pile up, which is not the runs' own cost.
    handles = []
    for _ in range(runs):
        handles.append(await start_parked(client, kind))
        await held(handles[-1])
    after = weigh()
    what = "Python heap" if measure == "heap" else "RSS"
    print(
        f"{kind}: {runs} parked runs, worker {what} +{(after - before) / runs / 1024:.1f} KiB/run "
        f"(threads {threads} -> {psutil.Process().num_threads()})"
    )
    await asyncio.gather(*(h.terminate() for h in [*warm, *handles]))


PARK_LINE = re.compile(r"^(\w+): \d+ parked runs, worker (RSS|Python heap) \+(-?[\d.]+) KiB/run")


def park_process(kind: str, measure: str, runs: int, tries: int = 3) -> re.Match[str]:
    """One ``park`` in a process of its own: its figure's line (a failed process is run again)."""
    command = [sys.executable, __file__, "park", "--kind", kind]
    command += ["--measure", measure, "--runs", str(runs)]
    for _ in range(tries):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        line = next((m for m in map(PARK_LINE.match, done.stdout.splitlines()) if m), None)
        if line is not None:  # a process that fails after its figure still measured it
            return line
        print(f"{' '.join(command[2:])} failed ({done.returncode}):", file=sys.stderr)
        print("\n".join(done.stderr.splitlines()[-10:]), file=sys.stderr, flush=True)
    raise SystemExit(f"{kind} ({measure}) failed {tries} times")


def park_both(runs: int, rounds: int) -> None:
    """Each kind, each measure, in a fresh process per figure; medians and their ratio."""
    figures: dict[tuple[str, str], list[float]] = {}
    kinds = ["interpreted", "handwritten"]
    for round_ in range(rounds):
        order = kinds if round_ % 2 == 0 else kinds[::-1]
        for measure in ("rss", "heap"):
            for kind in order:
                line = park_process(kind, measure, runs)
                figures.setdefault((measure, kind), []).append(float(line.group(3)))
                print(f"round {round_ + 1}: {line.group(0)}", flush=True)
    for measure, what in (("rss", "RSS"), ("heap", "Python heap")):
        mine = statistics.median(figures[(measure, "interpreted")])
        theirs = statistics.median(figures[(measure, "handwritten")])
        print(
            f"{what} per parked run, median of {rounds}: interpreted {mine:.1f} KiB, "
            f"hand-written {theirs:.1f} KiB, ratio {mine / theirs:.2f}"
        )


class ThreadCpu:
    """CPU seconds spent inside a function, summed over every thread that calls it."""

    def __init__(self, owner: Any, name: str) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._depth = threading.local()
        original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._depth, "n", 0)
            self._depth.n = depth + 1
            began = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self._depth.n = depth
                if depth == 0:  # nested calls are inside the outer one's time
                    with self._lock:
                        self.seconds += time.thread_time() - began

        setattr(owner, name, timed)


async def cpu(client: Client, runs: int, clients: int) -> None:
    # The peer runs in a process of its own, so its work is not counted as the worker's.
    with peer_process() as base:
        await _cpu(client, sequential(f"{base}/ok", 3), runs, clients)


async def _cpu(client: Client, definition: dict[str, Any], runs: int, clients: int) -> None:
    for _ in range(3):
        await interpreted(client, definition)
    creating = ThreadCpu(_runner._Instance, "__init__")
    adapters = ThreadCpu(pydantic.TypeAdapter, "__init__")
    left = runs
    began_cpu, began = time.process_time(), time.perf_counter()

    async def one_client() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await interpreted(client, definition)

    await asyncio.gather(*(one_client() for _ in range(clients)))
    total = time.process_time() - began_cpu
    wall = time.perf_counter() - began
    print(
        f"{runs} 3-node runs in {wall:.1f}s ({runs / wall:.1f}/s), {total:.1f} CPU-s: "
        f"sandbox instance creation {creating.seconds / total:.1%}, "
        f"TypeAdapter building {adapters.seconds / total:.1%}"
    )


async def main(args: argparse.Namespace) -> None:
    if args.what == "park" and args.measure == "heap":
        tracemalloc.start()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
        dev_server_extra_args=dynamic_config_flags(),
    )
    settings = WorkerSettings(task_queue=QUEUE, egress_allow=["127.0.0.1/32"])
    config = env.client.config()
    config["data_converter"] = settings.data_converter()
    client = Client(**config)
    try:
        async with create_worker(client, settings, workflows=[ParkedOnSignal]):
            if args.what == "park":
                await park(client, args.kind, args.runs, args.measure)
            else:
                await cpu(client, args.runs, args.clients)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["park", "cpu"])
    parser.add_argument(
        "--kind", choices=["interpreted", "handwritten", "both"], default="interpreted"
    )
    parser.add_argument("--measure", choices=["rss", "heap"], default="rss")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    arguments = parser.parse_args()
    if arguments.what == "park" and arguments.kind == "both":
        park_both(arguments.runs, arguments.rounds)
    else:
        asyncio.run(main(arguments))

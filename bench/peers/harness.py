"""What every engine's workload process shares: the timing loop and the result line.

An engine's workload module (``bench/peers/workloads/<engine>.py``) defines
``open_engine(job)``, an async context manager yielding an ``Engine``, and ends
with ``harness.main(open_engine)``. The runner starts it in the engine's own
environment with the job as JSON in argv[1]; it prints one line starting with
``RESULT`` and the figures as JSON. Standard library only: it is imported from
every engine's environment, none of which has FlowForge installed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

RESULT = "RESULT "


class Engine(Protocol):
    """One engine's versions of the workloads; each call runs one workflow to its end."""

    async def sequential(self, count: int) -> None:
        """``count`` http calls, each after the previous one answered."""

    async def fan_out(self, width: int) -> None:
        """``width`` http calls at once, then a step that joins their answers."""


@dataclass
class Job:
    """What the runner asks of one workload process (argv[1], as JSON)."""

    peer: str
    """The fast peer's base URL; every http call is a GET of ``{peer}/ok``."""
    chain: int = 20
    width: int = 100
    iterations: int = 3
    warmup: int = 1
    throughput_chain: int = 3
    clients: list[int] = field(default_factory=lambda: [4, 16])
    seconds: float = 3.0
    """How long each throughput measurement keeps starting runs."""
    settings: dict[str, str] = field(default_factory=dict)
    """Engine-specific: addresses, credentials, task queues."""

    @property
    def url(self) -> str:
        return f"{self.peer}/ok"


@dataclass
class Figures:
    """Seconds per run of each workload, and runs/s by number of clients."""

    sequential: list[float] = field(default_factory=list)
    fan_out: list[float] = field(default_factory=list)
    throughput: dict[str, float] = field(default_factory=dict)


async def timed(run: Callable[[], Awaitable[None]]) -> float:
    began = time.perf_counter()
    await run()
    return time.perf_counter() - began


async def throughput(run: Callable[[], Awaitable[None]], clients: int, seconds: float) -> float:
    """Runs per second with ``clients`` callers, each starting its next run when one ends.

    Runs are started for ``seconds``; the ones under way then are waited for and
    counted, and the time they take is counted too.
    """
    deadline = time.perf_counter() + seconds
    done = 0

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await run()
            done += 1

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return done / (time.perf_counter() - began)


async def measure(engine: Engine, job: Job) -> Figures:
    """Warm up, then alternate the two workloads; throughput last."""
    figures = Figures()
    for _ in range(job.warmup):
        await engine.sequential(job.chain)
        await engine.fan_out(job.width)
    for i in range(job.iterations):
        # Alternate which goes first so that drift favours neither.
        pair = [
            (figures.sequential, lambda: engine.sequential(job.chain)),
            (figures.fan_out, lambda: engine.fan_out(job.width)),
        ]
        for into, run in pair if i % 2 == 0 else reversed(pair):
            into.append(await timed(run))
    for clients in job.clients:
        figures.throughput[str(clients)] = await throughput(
            lambda: engine.sequential(job.throughput_chain), clients, job.seconds
        )
    return figures


Opener = Callable[[Job], AbstractAsyncContextManager[Engine]]


async def _run(open_engine: Opener, job: Job) -> Figures:
    # Engines with a synchronous API run each call in a thread; 16 clients need
    # more threads than the default pool of a 2-core machine has.
    loop = asyncio.get_running_loop()
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=64))
    async with open_engine(job) as engine:
        return await measure(engine, job)


def main(open_engine: Opener) -> None:
    """Entry point of a workload module: read the job, measure, print the result line."""
    job = Job(**json.loads(sys.argv[1]))
    figures = asyncio.run(_run(open_engine, job))
    print(RESULT + json.dumps(asdict(figures)), flush=True)


def parse_result(output: str) -> dict[str, Any] | None:
    """The figures in a workload process's output, or None if it printed none."""
    for line in reversed(output.splitlines()):
        if line.startswith(RESULT):
            parsed: dict[str, Any] = json.loads(line[len(RESULT) :])
            return parsed
    return None

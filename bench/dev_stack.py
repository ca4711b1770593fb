"""The dev stack's Temporal server, as `flowforge dev` starts it: latency and throughput.

    python bench/dev_stack.py [--persistence file|memory|rollback-journal]
                              [--dynamic-config PATH] [--chains 9] [--seconds 20]

Starts the dev server with the command line ``flowforge dev`` uses
(``app.devstack.temporal.dev_server_argv``), one worker in this process and
a peer that answers at once, then reports the median time of a chain of 20
sequential http nodes and the runs/s of a 3-node http workflow under 16
clients. ``--persistence rollback-journal`` is the file without the
write-ahead log, and ``--dynamic-config`` another dynamic config file (an
older one, to compare).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.client import Client

from app.devstack.readiness import wait_for_temporal
from app.devstack.settings import DevSettings
from app.devstack.temporal import DYNAMIC_CONFIG, dev_server_argv, dynamic_config_flags
from bench.definitions import sequential
from bench.interpreter_overhead import QUEUE, interpreted
from bench.peer import peer_process
from worker.runtime import create_worker
from worker.settings import WorkerSettings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_argv(persistence: str, config: Path, db_file: Path, address: str) -> list[str]:
    """``flowforge dev``'s command line, with the persistence and dynamic config asked for."""
    chosen = "memory" if persistence == "memory" else "file"
    settings = DevSettings(
        TEMPORAL_ADDRESS=address,
        temporal_ui_port=free_port(),
        temporal_persistence=chosen,
        demo_api=False,
    )
    argv: list[str] = []
    dropped = {"--dynamic-config-value"}
    if persistence == "rollback-journal":
        dropped.add("--sqlite-pragma")
    words = iter(dev_server_argv(settings, db_file))
    for word in words:
        if word in dropped:
            next(words)
        else:
            argv.append(word)
    return argv + dynamic_config_flags(config)


def three_nodes(url: str) -> dict[str, Any]:
    return sequential(url, 3)


async def chain_ms(client: Client, url: str, chains: int) -> list[float]:
    definition = sequential(url, 20)
    for _ in range(2):  # warm-up: sandbox, connection pool
        await interpreted(client, definition)
    times: list[float] = []
    for _ in range(chains):
        began = time.perf_counter()
        await interpreted(client, definition)
        times.append((time.perf_counter() - began) * 1000)
    return times


async def runs_per_second(client: Client, url: str, seconds: float, clients: int) -> float:
    definition = three_nodes(url)
    done = 0
    stop = time.perf_counter() + seconds

    async def one_client() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await interpreted(client, definition)
            done += 1

    began = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return done / (time.perf_counter() - began)


async def main(args: argparse.Namespace) -> None:
    address = f"127.0.0.1:{free_port()}"
    with tempfile.TemporaryDirectory() as data:
        argv = server_argv(args.persistence, args.dynamic_config, Path(data) / "t.db", address)
        server = subprocess.Popen(
            argv, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            await wait_for_temporal(address, "default", 60)
            settings = WorkerSettings(
                task_queue=QUEUE, egress_allow=["127.0.0.1/32"], TEMPORAL_ADDRESS=address
            )
            client = await Client.connect(address, data_converter=settings.data_converter())
            with peer_process() as base:
                url = f"{base}/ok"
                async with create_worker(client, settings):
                    times = await chain_ms(client, url, args.chains)
                    rate = runs_per_second(client, url, args.seconds, args.clients)
                    print(
                        f"persistence={args.persistence} config={args.dynamic_config.name}: "
                        f"20-node chain median {statistics.median(times):.0f} ms "
                        f"(min {min(times):.0f}, max {max(times):.0f}); "
                        f"3-node runs/s with {args.clients} clients {await rate:.1f}"
                    )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--persistence", choices=["file", "memory", "rollback-journal"], default="file"
    )
    parser.add_argument("--dynamic-config", type=Path, default=DYNAMIC_CONFIG)
    parser.add_argument("--chains", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    asyncio.run(main(parser.parse_args()))

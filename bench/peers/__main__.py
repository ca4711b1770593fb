"""FlowForge against the engines a user could pick instead, on the same machine and peer.

    python -m bench.peers [--rounds 3] [--iterations 2] [--engines flowforge-rest,dbos]
    make bench-peers

Starts the fast peer, the FlowForge dev stack (as `make dev` does; its Temporal
server also serves the hand-written Temporal workers), a Prefect server and a
Restate server, each engine installed in its own environment under ``.bench/``.
Then, each round, every engine's workload module runs once as a process of its
own, in an order that rotates from round to round: one warm-up, then
``--iterations`` of each workload, then runs/s of a 3-call chain under each
number of clients. It prints the medians over all rounds, each with its ratio
to FlowForge via REST, as a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.peer import peer_process, round_trip_ms
from bench.peers import services
from bench.peers.engines import ENGINES, EngineSpec, by_name
from bench.peers.environments import (
    CACHE,
    ROOT,
    Environment,
    ensure_restate_server,
    ensure_venv,
    flowforge_environment,
)
from bench.peers.harness import Job, parse_result
from bench.peers.report import Collected, guarantees, table

WORKLOAD_TIMEOUT = 300


def prepare(
    engines: list[EngineSpec], stack: contextlib.ExitStack, peer: str, cache: Path
) -> dict[str, tuple[Environment, dict[str, str], dict[str, str]]]:
    """Each engine's environment, process environment and settings; skipped ones say why."""
    ready: dict[str, tuple[Environment, dict[str, str], dict[str, str]]] = {}
    flowforge = services.start_flowforge(cache, peer)
    stack.callback(flowforge.service.stop)
    temporal = {
        "temporal_address": flowforge.env["TEMPORAL_ADDRESS"],
        "namespace": flowforge.env.get("TEMPORAL_NAMESPACE", "default"),
    }
    for engine in engines:
        try:
            env = (
                ensure_venv(engine.name, engine.requirements, cache)
                if engine.requirements
                else flowforge_environment()
            )
            process_env = dict(flowforge.env)
            settings = {**engine.settings, **temporal}
            if engine.name == "flowforge-rest":
                settings |= {"api_url": flowforge.api_url, "username": flowforge.username}
                # In the environment, not in the job: argv is visible to every local user.
                process_env["FLOWFORGE_BENCH_PASSWORD"] = flowforge.password
            elif engine.name == "prefect":
                server, process_env = services.start_prefect(env, cache)
                stack.callback(server.stop)
            elif engine.name == "dbos":
                settings["database_url"] = services.create_database("flowforge_bench_dbos")
            elif engine.name == "restate":
                binary = ensure_restate_server(cache)
                server, restate = services.start_restate(binary, cache)
                stack.callback(server.stop)
                settings |= restate
        except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
            print(f"skipping {engine.label}: {error}", flush=True)
            continue
        ready[engine.name] = (env, process_env, settings)
    return ready


def run_once(
    engine: EngineSpec, env: Environment, process_env: dict[str, str], job: Job, cache: Path
) -> tuple[dict[str, object] | None, str]:
    """One workload process; its figures, or None and the tail of its output."""
    log = cache / "logs" / f"{engine.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [str(env.python), "-m", engine.module, json.dumps(asdict(job))],
            cwd=ROOT,
            env=process_env,
            capture_output=True,
            text=True,
            timeout=WORKLOAD_TIMEOUT,
        )
    except subprocess.TimeoutExpired as late:
        return None, f"no result within {WORKLOAD_TIMEOUT} s ({late.stderr!s:.300})"
    with log.open("a") as out:
        out.write(done.stdout + done.stderr)
    figures = parse_result(done.stdout)
    if figures is None or done.returncode:
        return None, f"exit {done.returncode}: {done.stderr.strip()[-600:]} (log: {log})"
    return figures, ""


def run_round(
    round_: int,
    engines: list[EngineSpec],
    ready: dict[str, tuple[Environment, dict[str, str], dict[str, str]]],
    job: Job,
    collected: dict[str, Collected],
    cache: Path,
) -> None:
    """Each engine once, starting one further along the list each round."""
    shift = round_ % len(engines)
    for engine in engines[shift:] + engines[:shift]:
        env, process_env, settings = ready[engine.name]
        job.settings = settings
        figures, problem = run_once(engine, env, process_env, job, cache)
        if figures is None:
            print(f"round {round_ + 1}, {engine.label}: failed: {problem}", flush=True)
            collected[engine.name].failures.append(problem)
            continue
        collected[engine.name].add(figures)
        print(f"round {round_ + 1}, {engine.label}: {json.dumps(figures)}", flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=2, help="runs of each workload a round")
    parser.add_argument("--seconds", type=float, default=3.0, help="of each throughput figure")
    parser.add_argument("--clients", default="4,16")
    parser.add_argument("--engines", default=",".join(engine.name for engine in ENGINES))
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    engines = by_name(args.engines.split(","))
    clients = [int(n) for n in args.clients.split(",")]
    signal.signal(signal.SIGTERM, _interrupt)
    began = time.monotonic()
    # Other work on the machine shows in every figure: the load is printed with them.
    load = os.getloadavg()
    collected = {engine.name: Collected() for engine in engines}
    with contextlib.ExitStack() as stack:
        peer = stack.enter_context(peer_process())
        print(f"peer {peer}: {round_trip_ms(peer):.2f} ms a request", flush=True)
        ready = prepare(engines, stack, peer, args.cache)
        engines = [engine for engine in engines if engine.name in ready]
        job = Job(peer=peer, iterations=args.iterations, clients=clients, seconds=args.seconds)
        rounds = 0
        try:
            for round_ in range(args.rounds):
                run_round(round_, engines, ready, job, collected, args.cache)
                rounds += 1
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM: the servers stop, and the rounds done so far are shown.
            print(f"interrupted in round {rounds + 1}: the table has the runs done", flush=True)
    print()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    print(
        f"{stamp}, {os.cpu_count()} cores ({platform.machine()}), {rounds} rounds x "
        f"{args.iterations} runs of each workload, {args.seconds:g} s per throughput figure, "
        f"{time.monotonic() - began:.0f} s in all, load average {load[0]:.1f} at the start and "
        f"{os.getloadavg()[0]:.1f} at the end; medians (ratio to FlowForge via REST):"
    )
    print()
    print(table(engines, collected, clients))
    print()
    print(guarantees(engines))


if __name__ == "__main__":
    main()

"""The long-lived servers of the bench: the FlowForge dev stack, a Prefect server, a Restate server.

Each is a child process with its log under the cache dir, started once for the
whole bench and stopped (SIGTERM, then SIGKILL) at its end. Every one listens
on 127.0.0.1 only, on ports chosen free at start.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.peers.environments import ROOT, Environment


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, grace: float = 15) -> None:
        """SIGTERM to the service (a supervisor stops its children in order), then SIGKILL
        to whatever is left of its process group after ``grace``."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start(name: str, argv: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> Service:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        # A process group of its own, so stopping it stops what it started.
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Service(name, process, log)


def wait_until_up(service: Service, url: str, timeout: float) -> None:
    """Until ``url`` answers 2xx; a RuntimeError naming the log if the service dies or is late."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(
                f"{service.name} exited with {service.process.returncode}: see {service.log}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if 200 <= answer.status < 300:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    service.stop()
    raise RuntimeError(
        f"{service.name} did not answer {url} within {timeout:.0f} s: see {service.log}"
    )


@dataclass
class FlowForgeStack:
    service: Service
    api_url: str
    env: dict[str, str]
    """What a process needs to talk to this stack as its worker does (data dir, Temporal)."""
    username: str
    password: str


def start_flowforge(cache: Path, peer_url: str) -> FlowForgeStack:
    """``flowforge dev``, as ``make dev`` runs it, on free ports, its data under the cache dir.

    The demo API is off (the bench calls its own peer) and the peer's port is the
    one address nodes may call.
    """
    data = cache / "flowforge"
    api_port = free_port()
    peer_port = peer_url.rsplit(":", 1)[1]
    env = {
        **os.environ,
        "FLOWFORGE_DATA_DIR": str(data),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "FLOWFORGE_TEMPORAL_UI_PORT": str(free_port()),
        "FLOWFORGE_API_PORT": str(api_port),
        "FLOWFORGE_METRICS_PORT": str(free_port()),
        "FLOWFORGE_DEMO_API": "false",
        "FLOWFORGE_EGRESS_ALLOW": f"127.0.0.1:{peer_port}",
    }
    env.pop("DATABASE_URL", None)  # embedded PostgreSQL in the data dir, as `make dev`
    service = start("flowforge", [sys.executable, "-m", "app.cli", "dev"], env, data / "dev.log")
    api_url = f"http://127.0.0.1:{api_port}"
    wait_until_up(service, f"{api_url}/healthz", 240)
    password = (data / "admin_password").read_text().strip()
    return FlowForgeStack(service, api_url, env, "admin", password)


def create_database(
    name: str, admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
) -> str:
    """``name`` on the local PostgreSQL, created if missing; returns its URL."""
    import asyncio

    import asyncpg  # type: ignore[import-untyped]

    async def create() -> None:
        connection = await asyncpg.connect(admin_url)
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def start_prefect(env: Environment, cache: Path) -> tuple[Service, dict[str, str]]:
    """A Prefect server on PostgreSQL (on SQLite it answers 503 under the fan-out)."""
    database = create_database("flowforge_bench_prefect")
    port = free_port()
    client_env = {
        **os.environ,
        "PREFECT_HOME": str(cache / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
    }
    server_env = {
        **client_env,
        "PREFECT_API_DATABASE_CONNECTION_URL": database.replace(
            "postgresql://", "postgresql+asyncpg://", 1
        ),
    }
    argv = [str(env.bin / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    service = start("prefect", argv, server_env, cache / "prefect-server.log")
    wait_until_up(service, f"http://127.0.0.1:{port}/api/health", 240)
    return service, client_env


def start_restate(server: Path, cache: Path) -> tuple[Service, dict[str, str]]:
    """A single-node Restate server with a fresh data dir, TCP on 127.0.0.1 only."""
    data = cache / "restate-data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    ingress, admin = free_port(), free_port()
    env = {
        **os.environ,
        "RESTATE_INGRESS__BIND_PORT": str(ingress),
        "RESTATE_ADMIN__BIND_PORT": str(admin),
        "RESTATE_BIND_PORT": str(free_port()),
        "RESTATE_BIND_IP": "127.0.0.1",
        "RESTATE_LISTEN_MODE": "tcp",
        "RESTATE_DISABLE_TELEMETRY": "true",
    }
    argv = [str(server), "--no-logo", "--base-dir", str(data)]
    service = start("restate", argv, env, cache / "restate-server.log", cwd=data)
    wait_until_up(service, f"http://127.0.0.1:{admin}/health", 120)
    wait_until_up(service, f"http://127.0.0.1:{ingress}/restate/health", 120)
    settings = {
        "ingress_url": f"http://127.0.0.1:{ingress}",
        "admin_url": f"http://127.0.0.1:{admin}",
    }
    return service, settings

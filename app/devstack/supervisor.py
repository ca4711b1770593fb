"""``flowforge dev``: the whole stack in the foreground until Ctrl-C or SIGTERM.

Start order: Temporal dev server and PostgreSQL (in parallel), migrations,
worker, API. Stop order is the reverse, each with a grace period before
SIGKILL, so the whole stop fits in 15 s. A child that dies on its own stops
the rest, and the command exits non-zero naming it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from app.devstack import services
from app.devstack.nats import nats_server_argv
from app.devstack.ports import busy_port_problems
from app.devstack.postgres import EmbeddedPostgres, start_embedded
from app.devstack.processes import Child, echo, spawn
from app.devstack.readiness import (
    NotReady,
    wait_for_http,
    wait_for_postgres,
    wait_for_tcp,
    wait_for_temporal,
)
from app.devstack.settings import DevSettings
from app.devstack.temporal import dev_server_argv

T = TypeVar("T")
_GRACE = 4.0
_PG_GRACE = 5.0
_SELF = "flowforge"


class _Stopped(Exception):
    """Stop was requested (a signal or a dying child) while the stack was starting."""


class DevStack:
    """The dev stack's children and the state of its run."""

    def __init__(self, settings: DevSettings) -> None:
        self.settings = settings
        self.data_dir = Path(settings.data_dir).resolve()
        self.children: list[Child] = []
        self.postgres: EmbeddedPostgres | None = None
        self.failure: str | None = None
        self.stopping = asyncio.Event()
        self._watchers: list[asyncio.Task[None]] = []

    def fail(self, message: str) -> None:
        """Record why the stack stops; only the first reason counts."""
        if not self.stopping.is_set():
            self.failure = message
            echo(_SELF, f"error: {message}; stopping the rest")
        self.stopping.set()

    async def _until_stopped(self, awaitable: Awaitable[T]) -> T:
        task = asyncio.ensure_future(awaitable)
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise _Stopped
        return task.result()

    async def _watch(self, name: str, exit_code: Awaitable[int], hint: str = "") -> None:
        code = await exit_code
        if not self.stopping.is_set():
            how = (
                f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with {code}"
            )
            self.fail(f"{name} {how} unexpectedly{hint}")

    async def _service(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        child = await spawn(name, argv, env)
        self.children.append(child)
        self._watchers.append(asyncio.create_task(self._watch(name, child.process.wait())))
        return child

    def _embedded_postgres(self) -> str:
        pg_dir = self.data_dir / "pg"
        echo(_SELF, f"DATABASE_URL is not set: embedded PostgreSQL in {pg_dir}")
        # Started from this (main) thread: its death signal is tied to the forking thread.
        self.postgres = start_embedded(str(pg_dir))
        hint = f" (log: {self.postgres.log_path})"
        waiting = asyncio.to_thread(self.postgres.wait)
        self._watchers.append(asyncio.create_task(self._watch("postgres", waiting, hint)))
        return services.sqlalchemy_url(self.postgres.url)

    async def _nats(self) -> dict[str, str]:
        """Start NATS with JetStream; what the API and worker are told of it."""
        port = self.settings.dev_nats_port
        argv = nats_server_argv("127.0.0.1", port, self.data_dir / "nats")
        await self._service("nats", argv, services.inherited_env())
        await self._until_stopped(wait_for_tcp("NATS", "127.0.0.1", port, 30))
        stack = services.stack_addresses(self.settings)
        return {
            "FLOWFORGE_NATS_URL": f"nats://127.0.0.1:{port}",
            # Nodes may not call it, like every other part of the stack.
            "FLOWFORGE_STACK_ADDRESSES": f"{stack},NATS=127.0.0.1:{port}",
        }

    async def start(self) -> None:
        """Start everything; return once the API answers /healthz.

        Raises:
            _Stopped: stop was requested meanwhile.
            NotReady: a part did not answer in time.
        """
        settings = self.settings
        busy = busy_port_problems(settings)
        if busy:
            raise NotReady("\n  ".join(["a port the stack needs is taken:", *busy]))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        temporal_argv = dev_server_argv(settings, self.data_dir / "temporal.db")
        await self._service("temporal", temporal_argv, services.inherited_env())
        if settings.database_url:
            database_url = services.sqlalchemy_url(settings.database_url)
        else:
            database_url = self._embedded_postgres()
        await self._until_stopped(
            asyncio.gather(
                wait_for_temporal(settings.temporal_address, settings.temporal_namespace, 60),
                wait_for_postgres(database_url, 30),
            )
        )
        first = services.admin(settings, self.data_dir)
        env = services.child_env(settings, self.data_dir, database_url, first)
        if settings.dev_nats:
            env.update(await self._nats())
        migrate = await spawn("migrate", services.MIGRATE, env)
        self.children.append(migrate)
        if code := await self._until_stopped(migrate.process.wait()):
            raise NotReady(f"migrations failed with exit code {code} (output above)")
        if settings.demo_api:
            await self._service("demo-api", services.DEMO_API, env)
            demo = f"{services.demo_url(settings)}/_demo"
            await self._until_stopped(wait_for_http(demo, 30))
        await self._service("worker", services.WORKER, env)
        await self._service("api", services.api_argv(settings), env)
        await self._until_stopped(wait_for_http(f"{services.api_url(settings)}/healthz", 60))
        for line in services.banner(settings, self.data_dir, first):
            echo(_SELF, line)

    async def shutdown(self) -> None:
        """Stop every child, the API and worker first; PostgreSQL last."""
        self.stopping.set()
        first = [child for child in self.children if child.name != "temporal"]
        await asyncio.gather(*(child.stop(_GRACE) for child in first))
        for child in self.children:
            if child.name == "temporal":
                child.muted = True  # its shutdown logs cancelled polls as errors
                await child.stop(_GRACE)
        if self.postgres is not None:
            await asyncio.to_thread(self.postgres.stop, _PG_GRACE)
        for watcher in self._watchers:
            watcher.cancel()


def _quiet_when_stopping(
    stack: DevStack, loop: asyncio.AbstractEventLoop, context: dict[str, Any]
) -> None:
    # Connection attempts cut short by a stop leave futures nobody reads; their
    # tracebacks say nothing about the stack, so they are not shown then.
    if not stack.stopping.is_set():
        loop.default_exception_handler(context)


async def supervise(settings: DevSettings) -> int:
    """Run the dev stack until SIGINT/SIGTERM/SIGHUP; 0 on a requested stop, 1 on a failure."""
    stack = DevStack(settings)
    loop = asyncio.get_running_loop()
    # SIGHUP: the terminal went away; stop as cleanly as on Ctrl-C.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stack.stopping.set)
    loop.set_exception_handler(partial(_quiet_when_stopping, stack))
    try:
        await stack.start()
        await stack.stopping.wait()
    except _Stopped:
        pass
    except (NotReady, RuntimeError, ValueError, OSError) as error:
        stack.fail(str(error))
    finally:
        echo(_SELF, "stopping...")
        await stack.shutdown()
    echo(_SELF, "stopped" if stack.failure is None else f"stopped after an error: {stack.failure}")
    return 0 if stack.failure is None else 1

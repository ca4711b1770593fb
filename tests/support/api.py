"""Driving the API in-process: settings, a client, actors, definitions and runs."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI

from app.core.state import AppState
from app.main import create_app
from app.settings import Settings
from tests.support.eventually import eventually
from tests.support.temporal import TEST_PAYLOAD_KEY

ADMIN_USERNAME = "root-admin"
ADMIN_PASSWORD = "root-admin-password"
API = "/api/v1"
T = TypeVar("T")


@dataclass
class Actor:
    """A logged-in user as the tests drive it.

    Attributes:
        id: The user's id.
        username: The name the user logs in with.
        role: ``admin``, ``editor`` or ``viewer``.
        headers: The bearer header of the user's token.
    """

    id: str
    username: str
    role: str
    headers: dict[str, str]


MakeUser = Callable[[str], Awaitable[Actor]]
"""``await make_user(role)``: a new user of that role, logged in (the ``make_user`` fixture)."""


def make_settings(
    database_url: str, temporal_address: str, data_dir: Path, **extra: Any
) -> Settings:
    """Test settings: the session's database and Temporal, a task queue of their own."""
    values: dict[str, Any] = {
        "environment": "test",
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_address,
        "data_dir": str(data_dir),
        "task_queue": f"api-{uuid.uuid4().hex[:12]}",
        "payload_key": TEST_PAYLOAD_KEY,
        "admin_username": ADMIN_USERNAME,
        "admin_password": ADMIN_PASSWORD,
        "temporal_connect_timeout": 2.0,
        "temporal_rpc_timeout": 5.0,
        "db_connect_timeout": 2.0,
        # Event streams of runs that go on for long end soon (clients reconnect).
        "run_events_max_seconds": 3.0,
        # Schedules that fire every few seconds show their runs within a test.
        "quota_min_schedule_interval": 1.0,
        # Every test logs in from the same address, and one logs a user in twenty
        # times at once; the throttle's own tests use an app of their own.
        "login_free_attempts": 50,
        "login_address_free_attempts": 10_000,
        **extra,
    }
    return Settings(**values)


async def started(
    app: FastAPI, *, raise_app_exceptions: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app``'s lifespan and yield a client talking to it in-process."""
    async with (
        app.router.lifespan_context(app),
        client_of(app, raise_app_exceptions=raise_app_exceptions) as http,
    ):
        yield http


def client_of(
    app: FastAPI, *, address: str = "127.0.0.1", raise_app_exceptions: bool = True
) -> httpx.AsyncClient:
    """A client of the in-process ``app`` (lifespan already running), calling from ``address``."""
    transport = httpx.ASGITransport(
        app=app, raise_app_exceptions=raise_app_exceptions, client=(address, 50_000)
    )
    return httpx.AsyncClient(transport=transport, base_url="http://flowforge.test")


@contextlib.asynccontextmanager
async def quota_api(settings: Settings, **quotas: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on ``settings``'s database, Temporal and keys, with other settings.

    ``quotas`` are any settings (quotas, switches such as self-registration).

    Tokens of the session's app work in it (same data_dir, so the same JWT key).
    """
    changed = make_settings(
        settings.database_url, settings.temporal_address, Path(settings.data_dir), **quotas
    )
    async for client in started(create_app(changed)):
        yield client


async def login(http: httpx.AsyncClient, username: str, password: str) -> Actor:
    response = await http.post(
        f"{API}/auth/token", data={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    me = (await http.get(f"{API}/auth/me", headers=headers)).json()
    return Actor(id=me["id"], username=username, role=me["role"], headers=headers)


def definition(name: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A small valid definition (one transform node) with a unique name."""
    return {
        "name": name or f"wf-{uuid.uuid4().hex[:10]}",
        "nodes": [{"id": "greet", "type": "transform", "config": {"value": "hello"}}],
        **overrides,
    }


def waiting_definition(duration: str = "1h") -> dict[str, Any]:
    """A run that stays open: a wait node, then a node that can only start after it."""
    return definition(
        nodes=[
            {"id": "hold", "type": "wait", "config": {"duration": duration}},
            {"id": "after", "type": "transform", "config": {"value": "done"}},
        ],
        edges=[{"from": "hold", "to": "after"}],
    )


async def create_workflow(
    http: httpx.AsyncClient, actor: Actor, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await http.post(
        f"{API}/workflows", json={"definition": body or definition()}, headers=actor.headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def start_run(http: httpx.AsyncClient, actor: Actor, workflow_id: str, **body: Any) -> str:
    """Start a run of a stored workflow (``body`` is the start request); its run id."""
    response = await http.post(
        f"{API}/workflows/{workflow_id}/runs", json=body, headers=actor.headers
    )
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    return run_id


async def run_of(http: httpx.AsyncClient, actor: Actor, body: dict[str, Any]) -> str:
    """Store ``body`` as a new workflow and start a run of it; the run id."""
    created = await create_workflow(http, actor, body)
    return await start_run(http, actor, created["id"])


async def run_becomes(
    http: httpx.AsyncClient, actor: Actor, run_id: str, status: str
) -> dict[str, Any]:
    """The run's detail once it shows ``status`` (polled with a deadline)."""

    async def probe() -> dict[str, Any] | None:
        response = await http.get(f"{API}/runs/{run_id}", headers=actor.headers)
        run: dict[str, Any] = response.json()
        return run if run["status"] == status else None

    return await eventually(probe, what=f"run {run_id} to become {status}")


async def node_status(http: httpx.AsyncClient, actor: Actor, run_id: str, node: str) -> str:
    """The status the run's detail shows for ``node`` (``"None"`` before it appears)."""
    run = (await http.get(f"{API}/runs/{run_id}", headers=actor.headers)).json()
    return str({n["id"]: n["status"] for n in run["nodes"]}.get(node))


async def send_signal(
    http: httpx.AsyncClient, actor: Actor, run_id: str, name: str, payload: Any
) -> httpx.Response:
    return await http.post(
        f"{API}/runs/{run_id}/signals/{name}", json={"payload": payload}, headers=actor.headers
    )


@contextlib.contextmanager
def served_by_uvicorn(app: FastAPI) -> Iterator[str]:
    """``app`` served by a real uvicorn on a free local port, on its own thread; yields its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


async def store_unchecked(state: AppState, actor: Actor, body: dict[str, Any]) -> str:
    """Store ``body`` as a workflow of ``actor`` without the save-time checks; its id.

    Stands for a definition saved by an older FlowForge whose checks let it through.
    """
    from app.db.crud.workflows import create_workflow as insert_workflow
    from app.db.models.user import User
    from interpreter.dsl.definition import Definition

    async with state.sessions() as session:
        owner = await session.get(User, uuid.UUID(actor.id))
        assert owner is not None
        workflow = await insert_workflow(
            session=session, owner=owner, definition=Definition.model_validate(body), raw=body
        )
        return str(workflow.id)


async def slowest_health_check(http: httpx.AsyncClient, busy: Awaitable[T]) -> tuple[float, T]:
    """Poll ``/healthz`` while ``busy`` runs; the slowest answer (seconds) and ``busy``'s result.

    The in-process app shares the test's event loop, so CPU or blocking work
    on that loop shows up here as latency.
    """
    task = asyncio.ensure_future(busy)
    slowest = 0.0
    while True:
        began = time.monotonic()
        response = await http.get("/healthz")
        slowest = max(slowest, time.monotonic() - began)
        assert response.status_code == 200, response.text
        if task.done():
            return slowest, await task
        await asyncio.sleep(0.02)

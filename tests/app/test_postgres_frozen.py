"""A hung PostgreSQL (every process stopped) costs each request a 503 within the bounds.

The API runs against a server of the test's own, which the test stops with
SIGSTOP: requests that hold a pooled connection, requests that take one from
the pool and requests that need a new one all answer 503 within the
configured timeout, and the API serves again by itself once it resumes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from app.main import create_app
from tests.support.api import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    API,
    Actor,
    create_workflow,
    login,
    make_settings,
    started,
)
from tests.support.eventually import eventually
from tests.support.postgres import OwnPostgres, frozen, own_postgres

TIMEOUT = 2.0
"""Every database bound of the API under test, in seconds."""

MARGIN = 3.0
"""Slack for a shared 2-core machine on top of the bound."""


@pytest.fixture(scope="module")
def postgres() -> Iterator[OwnPostgres]:
    with own_postgres() as own:
        yield own


@pytest.fixture
async def api(
    postgres: OwnPostgres, temporal_address: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        postgres.url,
        temporal_address,
        tmp_path,
        db_connect_timeout=TIMEOUT,
        db_statement_timeout=TIMEOUT,
        db_pool_timeout=TIMEOUT,
    )
    async for client in started(create_app(settings)):
        yield client


async def timed(request: asyncio.Future[httpx.Response] | asyncio.Task[httpx.Response]) -> float:
    started_at = time.monotonic()
    await request
    return time.monotonic() - started_at


async def lock_workflows(postgres: OwnPostgres) -> asyncpg.Connection:
    """A connection holding the workflows table, so a request listing them waits on it."""
    holder = await asyncpg.connect(postgres.server.url)
    await holder.execute("BEGIN; LOCK TABLE workflows IN ACCESS EXCLUSIVE MODE")
    return holder


async def blocked_on_lock(holder: asyncpg.Connection) -> None:
    async def waiting() -> bool:
        count = await holder.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        )
        return bool(count)

    await eventually(waiting, within=10, what="the request to wait on the lock")


async def list_workflows(api: httpx.AsyncClient, admin: Actor) -> tuple[httpx.Response, float]:
    started_at = time.monotonic()
    response = await api.get(f"{API}/workflows", headers=admin.headers)
    return response, time.monotonic() - started_at


def assert_quick_503(response: httpx.Response, took: float, what: str) -> None:
    assert response.status_code == 503, (what, response.text)
    assert "PostgreSQL" in response.json()["detail"], what
    assert took < TIMEOUT + MARGIN, f"{what} took {took:.2f} s"


async def _frozen_figures(
    api: httpx.AsyncClient, admin: Actor, postgres: OwnPostgres, holder: asyncpg.Connection
) -> dict[str, float]:
    """Requests in flight, pooled and new, and the probes, while every PostgreSQL process
    is stopped; the seconds each took."""
    in_flight = asyncio.create_task(list_workflows(api, admin))
    await blocked_on_lock(holder)
    figures: dict[str, float] = {}
    with frozen(postgres):
        response, took = await in_flight
        assert_quick_503(response, took, "the request in flight")
        figures["in flight"] = took
        for round_ in range(3):  # pooled connections first, then new connections
            answers = await asyncio.gather(*(list_workflows(api, admin) for _ in range(4)))
            for index, (response, took) in enumerate(answers):
                assert_quick_503(response, took, f"round {round_} request {index}")
            figures[f"round {round_} slowest"] = max(took for _, took in answers)
        started_at = time.monotonic()
        health = await api.get("/healthz")
        figures["healthz"] = time.monotonic() - started_at
        assert health.status_code == 200
        # Under the database bound: /healthz waits for nothing of PostgreSQL's.
        assert figures["healthz"] < TIMEOUT
        started_at = time.monotonic()
        ready = await api.get("/readyz")
        figures["readyz"] = time.monotonic() - started_at
        assert ready.status_code == 503
        assert [e["path"] for e in ready.json()["errors"]] == ["/postgres"]
        assert figures["readyz"] < TIMEOUT + MARGIN
    return figures


async def test_a_stopped_postgres_answers_503_in_time_and_the_api_recovers(
    api: httpx.AsyncClient, postgres: OwnPostgres
) -> None:
    admin = await login(api, ADMIN_USERNAME, ADMIN_PASSWORD)
    await create_workflow(api, admin)
    # A few pooled connections, each of which will find its server stopped.
    warm = await asyncio.gather(*(list_workflows(api, admin) for _ in range(4)))
    assert all(response.status_code == 200 for response, _ in warm)

    holder = await lock_workflows(postgres)
    try:
        figures = await _frozen_figures(api, admin, postgres, holder)
    finally:
        # Never left holding the lock: the module's next test would wait on it.
        await holder.close()

    resumed = time.monotonic()

    async def serving() -> bool:
        response, _ = await list_workflows(api, admin)
        return response.status_code == 200

    await eventually(serving, within=15, what="the API to serve again")
    figures["recovered after"] = time.monotonic() - resumed
    answers = await asyncio.gather(*(list_workflows(api, admin) for _ in range(6)))
    assert [response.status_code for response, _ in answers] == [200] * 6
    assert (await api.get("/readyz")).status_code == 200
    print("frozen PostgreSQL, seconds:", {k: round(v, 2) for k, v in figures.items()})


async def test_a_statement_past_the_timeout_is_503_on_a_live_server(
    api: httpx.AsyncClient, postgres: OwnPostgres
) -> None:
    admin = await login(api, ADMIN_USERNAME, ADMIN_PASSWORD)
    holder = await lock_workflows(postgres)
    try:
        response, took = await list_workflows(api, admin)
        assert_quick_503(response, took, "a request waiting on a lock")
    finally:
        await holder.close()
    response, _ = await list_workflows(api, admin)
    assert response.status_code == 200

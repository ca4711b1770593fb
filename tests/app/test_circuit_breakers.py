"""The circuit-breaker routes: each user's own breakers, and the shared ones admins define."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from app.settings import Settings
from interpreter.activities.circuit import BreakerKey, Permit
from tests.support.api import API, Actor
from worker.circuit_breakers import PostgresCircuitBreakers

BREAKERS = f"{API}/circuit-breakers"


@pytest.fixture
def service() -> str:
    return f"svc-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def shared(service: str) -> str:
    """The key of a shared breaker: only admins define and manage those."""
    return f"shared:{service}"


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[PostgresCircuitBreakers]:
    """The workers' store on the session's database, to trip breakers as calls would."""
    pool = await asyncpg.create_pool(
        settings.database_url.replace("+asyncpg", ""), min_size=1, max_size=2
    )
    try:
        yield PostgresCircuitBreakers(pool)
    finally:
        await pool.close()


async def configure(
    http: httpx.AsyncClient, actor: Actor, service: str, **config: Any
) -> httpx.Response:
    return await http.put(f"{BREAKERS}/{service}/config", json=config, headers=actor.headers)


async def test_an_unknown_service_is_404_and_closed_by_default(
    http: httpx.AsyncClient, viewer: Actor, admin: Actor, service: str
) -> None:
    for response in (
        await http.get(f"{BREAKERS}/{service}", headers=viewer.headers),
        await http.post(f"{BREAKERS}/{service}/reset", headers=admin.headers),
        await http.delete(f"{BREAKERS}/{service}", headers=admin.headers),
    ):
        assert response.status_code == 404
        assert "it is closed, with the default config" in response.json()["detail"]


async def test_an_admin_configures_and_everyone_reads(
    http: httpx.AsyncClient, admin: Actor, editor: Actor, viewer: Actor, shared: str
) -> None:
    service = shared
    response = await configure(http, admin, service, failure_threshold=2, reset_timeout=1.5)

    assert response.status_code == 200, response.text
    breaker = response.json()
    assert breaker["service"] == service
    assert (breaker["state"], breaker["failures"], breaker["opened_at"]) == ("closed", 0, None)
    assert breaker["config"] == {
        "failure_threshold": 2,
        "reset_timeout": 1.5,
        "half_open_max_calls": 1,
    }
    for reader in (editor, viewer):
        one = await http.get(f"{BREAKERS}/{service}", headers=reader.headers)
        assert one.json() == breaker
        listing = await http.get(BREAKERS, headers=reader.headers, params={"limit": 200})
        assert service in [item["service"] for item in listing.json()["items"]]


async def test_only_admins_write(
    http: httpx.AsyncClient, admin: Actor, editor: Actor, viewer: Actor, shared: str
) -> None:
    service = shared
    await configure(http, admin, service)
    for actor in (editor, viewer):
        for response in (
            await configure(http, actor, service, failure_threshold=1),
            await http.post(f"{BREAKERS}/{service}/reset", headers=actor.headers),
            await http.delete(f"{BREAKERS}/{service}", headers=actor.headers),
        ):
            assert response.status_code == 403
            assert response.json()["detail"] == "this needs the admin role"
    unchanged = await http.get(f"{BREAKERS}/{service}", headers=viewer.headers)
    assert unchanged.json()["config"]["failure_threshold"] == 5


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({"failure_threshold": 0}, "/body/failure_threshold"),
        ({"reset_timeout": 0}, "/body/reset_timeout"),
        ({"half_open_max_calls": 0}, "/body/half_open_max_calls"),
        ({"reset_timeout": "soon"}, "/body/reset_timeout"),
    ],
)
async def test_a_bad_config_is_422(
    http: httpx.AsyncClient, admin: Actor, service: str, config: dict[str, Any], path: str
) -> None:
    response = await configure(http, admin, service, **config)

    assert response.status_code == 422
    assert [error["path"] for error in response.json()["errors"]] == [path]


async def test_an_open_breaker_shows_why_and_a_reset_closes_it_keeping_its_config(
    http: httpx.AsyncClient,
    admin: Actor,
    viewer: Actor,
    shared: str,
    store: PostgresCircuitBreakers,
) -> None:
    service = shared
    key = BreakerKey.parse(service, viewer.id)
    await configure(http, admin, service, failure_threshold=2, reset_timeout=60)
    for _ in range(2):
        await store.report(Permit(key), "failure")

    tripped = (await http.get(f"{BREAKERS}/{service}", headers=viewer.headers)).json()
    reset = await http.post(f"{BREAKERS}/{service}/reset", headers=admin.headers)

    assert (tripped["state"], tripped["failures"]) == ("open", 2)
    assert tripped["opened_at"] is not None
    assert reset.status_code == 200, reset.text
    assert (reset.json()["state"], reset.json()["failures"]) == ("closed", 0)
    assert reset.json()["opened_at"] is None
    assert reset.json()["config"] == tripped["config"]
    assert await store.allow(key) == Permit(key)


async def test_a_failing_service_gets_a_breaker_that_delete_forgets(
    http: httpx.AsyncClient, admin: Actor, service: str, store: PostgresCircuitBreakers
) -> None:
    await store.report(Permit(BreakerKey(service, admin.id)), "failure")

    found = await http.get(f"{BREAKERS}/{service}", headers=admin.headers)
    deleted = await http.delete(f"{BREAKERS}/{service}", headers=admin.headers)
    again = await http.get(f"{BREAKERS}/{service}", headers=admin.headers)

    assert (found.json()["state"], found.json()["failures"]) == ("closed", 1)
    assert found.json()["config"]["failure_threshold"] == 5
    assert (deleted.status_code, again.status_code) == (204, 404)

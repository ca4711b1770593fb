"""A dependency that is down makes a clear 503, never a 500; the API still starts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.support.api import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    API,
    create_workflow,
    login,
    make_settings,
    started,
)


@pytest.fixture
async def without_temporal(
    migrated_url: str, tmp_path: Path, free_tcp_port: int
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(migrated_url, f"127.0.0.1:{free_tcp_port}", tmp_path)
    async for client in started(create_app(settings)):
        yield client


@pytest.fixture
async def without_postgres(
    temporal_address: str, tmp_path: Path, free_tcp_port: int
) -> AsyncIterator[httpx.AsyncClient]:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_tcp_port}/flowforge"
    async for client in started(create_app(make_settings(url, temporal_address, tmp_path))):
        yield client


async def test_temporal_down_is_503_for_runs_only(
    without_temporal: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    api = without_temporal
    admin = await login(api, ADMIN_USERNAME, ADMIN_PASSWORD)
    created = await create_workflow(api, admin)
    for method, path in (
        ("POST", f"/workflows/{created['id']}/runs"),
        ("GET", "/runs"),
        ("GET", "/runs/run-anything"),
        ("POST", "/runs/run-anything/cancel"),
    ):
        response = await api.request(method, API + path, json={}, headers=admin.headers)
        assert response.status_code == 503, path
        assert "Temporal" in response.json()["detail"]
        assert "retry" in response.json()["detail"]
    assert (await api.get("/healthz")).status_code == 200


async def test_readyz_names_temporal(without_temporal: httpx.AsyncClient) -> None:
    response = await without_temporal.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["detail"] == "not ready: temporal unreachable"
    assert [e["path"] for e in body["errors"]] == ["/temporal"]


async def test_postgres_down_is_503(without_postgres: httpx.AsyncClient) -> None:
    api = without_postgres
    login_attempt = await api.post(
        f"{API}/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert login_attempt.status_code == 503
    assert "PostgreSQL" in login_attempt.json()["detail"]
    me = await api.get(f"{API}/auth/me", headers={"Authorization": "Bearer ffk_anything"})
    assert me.status_code == 503
    assert (await api.get("/healthz")).status_code == 200


async def test_readyz_names_postgres(without_postgres: httpx.AsyncClient) -> None:
    response = await without_postgres.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["detail"] == "not ready: postgres unreachable"
    assert [e["path"] for e in body["errors"]] == ["/postgres"]


async def test_settings_refuse_a_missing_secret_in_prod() -> None:
    with pytest.raises(ValueError, match="FLOWFORGE_JWT_SECRET"):
        Settings(environment="prod", jwt_secret="")
    with pytest.raises(ValueError, match="FLOWFORGE_JWT_SECRET"):
        Settings(environment="prod", jwt_secret="too-short")

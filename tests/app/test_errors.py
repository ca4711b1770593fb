"""One error body everywhere; size limits; request ids; a 500 without a trace."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.support.api import API, Actor, definition, started


async def test_unknown_route_is_404_json(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


async def test_wrong_method_is_405_json(http: httpx.AsyncClient) -> None:
    response = await http.patch(f"{API}/auth/me")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "GET"


async def test_malformed_json_is_422_with_a_path(http: httpx.AsyncClient, editor: Actor) -> None:
    response = await http.post(
        f"{API}/workflows",
        content=b'{"definition": ',
        headers={**editor.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["code"] == "json_invalid"
    assert body["errors"][0]["path"].startswith("/body")


async def test_body_over_the_limit_by_content_length_is_413(
    http: httpx.AsyncClient, settings: Settings, editor: Actor
) -> None:
    big = definition(description="x" * settings.max_request_bytes)
    response = await http.post(f"{API}/workflows", json={"definition": big}, headers=editor.headers)
    assert response.status_code == 413
    assert str(settings.max_request_bytes) in response.json()["detail"]


async def test_streamed_body_over_the_limit_is_413(
    http: httpx.AsyncClient, settings: Settings, editor: Actor
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"definition": {"description": "'
        for _ in range(settings.max_request_bytes // 65536 + 1):
            yield b"x" * 65536
        yield b'"}}'

    response = await http.post(
        f"{API}/workflows",
        content=chunks(),
        headers={**editor.headers, "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


async def test_request_id_is_echoed_or_made_up(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        given = await http.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert given.headers["x-request-id"] == "trace-123"
    access = [r for r in caplog.records if r.name == "app.access"]
    assert access[-1].request_id == "trace-123"  # type: ignore[attr-defined]
    assert access[-1].route == "/healthz"  # type: ignore[attr-defined]
    made = await http.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    unsafe = await http.get("/healthz", headers={"X-Request-ID": "no spaces\tor tabs"})
    assert unsafe.headers["x-request-id"] != "no spaces\tor tabs"


@pytest.fixture(scope="module")
async def failing_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)

    async def explode() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/explode", explode)
    async for client in started(app, raise_app_exceptions=False):
        yield client


async def test_unexpected_errors_are_500_without_a_trace(failing_app: httpx.AsyncClient) -> None:
    response = await failing_app.get("/explode", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; request id boom-1"}
    assert response.headers["x-request-id"] == "boom-1"

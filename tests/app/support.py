"""Helpers of the app tests: actors, definitions, polling."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

ADMIN_USERNAME = "root-admin"
ADMIN_PASSWORD = "root-admin-password"
API = "/api/v1"

T = TypeVar("T")


@dataclass
class Actor:
    """A logged-in user as the tests drive it."""

    id: str
    username: str
    role: str
    headers: dict[str, str]


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


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, within: float = 15.0, what: str = "condition"
) -> T:
    """Poll ``probe`` until it returns non-None; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.1)


async def run_becomes(
    http: httpx.AsyncClient, actor: Actor, run_id: str, status: str
) -> dict[str, Any]:
    """The run's detail once it shows ``status`` (polled with a deadline)."""

    async def probe() -> dict[str, Any] | None:
        response = await http.get(f"{API}/runs/{run_id}", headers=actor.headers)
        run: dict[str, Any] = response.json()
        return run if run["status"] == status else None

    return await eventually(probe, what=f"run {run_id} to become {status}")

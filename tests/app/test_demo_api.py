"""The demo API: the answers the examples rely on, its switches, and a clear busy-port error."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from app.devstack.demo_api import DemoApi, bind, server
from tests.support.ports import free_block


@pytest.fixture
async def demo() -> AsyncIterator[str]:
    """The demo API served on five free ports; yields the host part of its URLs."""
    base = free_block(5)
    uvicorn_server, sockets = server(DemoApi(base), "127.0.0.1")
    # The sockets listen already: requests queue until the server takes them.
    serving = asyncio.create_task(uvicorn_server.serve(sockets=sockets))
    yield f"http://127.0.0.1:{base}"
    uvicorn_server.should_exit = True
    await serving


def port(url: str, offset: int) -> str:
    host, _, first = url.rpartition(":")
    return f"{host}:{int(first) + offset}"


async def test_a_retried_charge_with_its_key_is_the_same_charge(demo: str) -> None:
    payments = port(demo, 1)
    async with httpx.AsyncClient() as client:
        body = {"order": "o-1", "amount": 10}
        first = await client.post(f"{payments}/charge", json=body, headers={"Idempotency-Key": "k"})
        again = await client.post(f"{payments}/charge", json=body, headers={"Idempotency-Key": "k"})
        other = await client.post(f"{payments}/charge", json=body, headers={"Idempotency-Key": "j"})
        declined = await client.post(f"{payments}/charge", json={"order": "o", "amount": 9000})
    assert first.json() == again.json()
    assert first.json()["id"] != other.json()["id"]
    assert declined.status_code == 402


async def test_switches_fail_the_next_requests_and_refuse_bad_values(demo: str) -> None:
    inventory = port(demo, 0)
    async with httpx.AsyncClient() as client:
        await client.put(f"{inventory}/_demo", json={"fail_next": 1, "fail_status": 500})
        failed = await client.post(f"{inventory}/reserve", json={"order": "o-1"})
        ok = await client.post(f"{inventory}/reserve", json={"order": "o-1"})
        out_of_stock = await client.post(f"{inventory}/reserve", json={"order": "oos-1"})
        bad = await client.put(f"{inventory}/_demo", json={"fail_rate": 2})
        seen = (await client.get(f"{inventory}/_demo")).json()["seen"]
    assert (failed.status_code, ok.status_code, out_of_stock.status_code) == (500, 200, 409)
    assert bad.status_code == 422
    assert "fail_rate" in bad.json()["error"]
    assert [s["status"] for s in seen] == [409, 200, 500]


async def test_users_come_in_three_pages_of_five_with_profiles(demo: str) -> None:
    users = port(demo, 2)
    async with httpx.AsyncClient() as client:
        pages = [(await client.get(f"{users}/users", params={"page": n})).json() for n in (1, 4)]
        profile = await client.get(f"{users}/profiles/u3")
        missing = await client.get(f"{users}/profiles/u99")
        bad = await client.get(f"{users}/users", params={"page": "x"})
    assert [len(p["users"]) for p in pages] == [5, 0]
    assert profile.json()["plan"] in {"free", "pro", "team"}
    assert (missing.status_code, bad.status_code) == (404, 400)


@pytest.mark.fast
def test_a_busy_port_is_named_with_the_settings_that_move_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with pytest.raises(OSError, match=rf"127\.0\.0\.1:{busy}.*FLOWFORGE_DEMO_API_BASE_PORT"):
            bind("127.0.0.1", [busy])

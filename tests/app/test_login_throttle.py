"""Password guessing: failed logins lock the username and the address, in every API process."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings
from tests.support.api import API, Actor, client_of

FREE = 3
"""Failed logins of one username before the throttle's test apps lock it."""


def _strict(settings: Settings) -> Settings:
    # Short locks, so that waiting one out takes a second.
    return settings.model_copy(
        update={
            "login_free_attempts": FREE,
            "login_address_free_attempts": 3 * FREE,
            "login_delay_seconds": 1.0,
            "login_max_delay_seconds": 1.0,
        }
    )


async def _running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
async def strict_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """An API process with a strict login throttle, on the session's database."""
    async for app in _running(create_app(_strict(settings))):
        yield app


@pytest.fixture(scope="module")
async def other_strict_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """A second API process like ``strict_app``, sharing its database."""
    async for app in _running(create_app(_strict(settings))):
        yield app


def _address() -> str:
    """A client address of the test's own, so no other test's failures count against it."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


async def _new_user(http: httpx.AsyncClient, admin: Actor) -> tuple[str, str]:
    username, password = f"guessed-{uuid.uuid4().hex[:10]}", f"pw-{uuid.uuid4().hex}"
    created = await http.post(
        f"{API}/users",
        json={"username": username, "password": password, "role": "viewer"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    return username, password


async def _login(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post(f"{API}/auth/token", data={"username": username, "password": password})


async def _guess(http: httpx.AsyncClient, username: str, times: int) -> list[httpx.Response]:
    return [await _login(http, username, f"guess-{n}-wrong") for n in range(times)]


async def test_ten_wrong_passwords_make_even_the_right_one_wait(
    http: httpx.AsyncClient, admin: Actor, strict_app: FastAPI
) -> None:
    username, password = await _new_user(http, admin)
    async with client_of(strict_app, address=_address()) as attacker:
        guesses = await _guess(attacker, username, 10)
        right = await _login(attacker, username, password)

        assert [r.status_code for r in guesses[: FREE + 1]] == [401] * (FREE + 1)
        assert {r.status_code for r in guesses[FREE + 1 :]} == {429}
        assert right.status_code == 429
        assert "retry" in right.json()["detail"]
        wait = int(right.headers["retry-after"])
        assert wait == 1  # the lock is one second (rounded up)

        await asyncio.sleep(wait)
        assert (await _login(attacker, username, password)).status_code == 200
        # The success started the username over: the free attempts are back.
        assert [r.status_code for r in await _guess(attacker, username, FREE)] == [401] * FREE


async def test_an_unknown_username_is_answered_like_a_known_one(
    http: httpx.AsyncClient, admin: Actor, strict_app: FastAPI
) -> None:
    known, _ = await _new_user(http, admin)
    unknown = f"nobody-{uuid.uuid4().hex[:10]}"
    answers: dict[str, list[tuple[int, str, str | None]]] = {}
    timings: dict[str, list[float]] = {}
    for username in (known, unknown):
        async with client_of(strict_app, address=_address()) as attacker:
            answers[username], timings[username] = [], []
            for n in range(FREE + 3):
                began = time.monotonic()
                response = await _login(attacker, username, f"guess-{n}-wrong")
                timings[username].append(time.monotonic() - began)
                answers[username].append(
                    (response.status_code, response.text, response.headers.get("retry-after"))
                )

    assert answers[known] == answers[unknown]
    # Both check a password hash (a dummy one for the unknown name): ~0.1 s each.
    checked = slice(0, FREE + 1)
    known_time = statistics.median(timings[known][checked])
    unknown_time = statistics.median(timings[unknown][checked])
    assert 0.5 < known_time / unknown_time < 2.0


async def test_two_api_processes_share_the_lock(
    http: httpx.AsyncClient, admin: Actor, strict_app: FastAPI, other_strict_app: FastAPI
) -> None:
    username, password = await _new_user(http, admin)
    async with client_of(strict_app, address=_address()) as one:
        await _guess(one, username, FREE + 1)
    # Another address too: only the username's lock can refuse this one.
    async with client_of(other_strict_app, address=_address()) as other:
        refused = await _login(other, username, password)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1


async def test_one_address_guessing_many_usernames_is_locked(
    strict_app: FastAPI,
) -> None:
    async with client_of(strict_app, address=_address()) as attacker:
        statuses = []
        for _ in range(3 * FREE + 2):
            response = await _login(attacker, f"nobody-{uuid.uuid4().hex[:10]}", "guess-wrong")
            statuses.append(response.status_code)
    # Each name is new, so only the address's counter (three times the username's) locks.
    assert statuses == [401] * (3 * FREE + 1) + [429]


async def test_a_burst_of_guesses_at_once_counts_every_guess(
    http: httpx.AsyncClient, admin: Actor, strict_app: FastAPI
) -> None:
    username, _ = await _new_user(http, admin)
    async with client_of(strict_app, address=_address()) as attacker:
        burst = await asyncio.gather(
            *(_login(attacker, username, f"guess-{n}-wrong") for n in range(20))
        )
    statuses = sorted(r.status_code for r in burst)
    # Counted when let through, not when checked: the burst gets the free
    # attempts and the one that locks, no more.
    assert statuses == [401] * (FREE + 1) + [429] * (20 - FREE - 1)


async def test_codec_sign_in_is_throttled_too(
    http: httpx.AsyncClient, admin: Actor, strict_app: FastAPI
) -> None:
    username, _ = await _new_user(http, admin)
    async with client_of(strict_app, address=_address()) as attacker:
        statuses = [
            (
                await attacker.post(
                    f"{API}/codec/session", data={"username": username, "password": "wrong-one"}
                )
            ).status_code
            for _ in range(FREE + 2)
        ]
    assert statuses == [401] * (FREE + 1) + [429]

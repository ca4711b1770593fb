"""Circuit breakers in PostgreSQL around real http and webhook calls to a local peer."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from app.db.migrations import upgrade_to_head
from interpreter.activities import HttpActivity, WebhookActivity
from interpreter.activities.circuit import BreakerKey, Permit
from interpreter.errors import CircuitOpen
from tests.support.activities import TEST_KEYS, MemoryRecorder, fail, node_request, run
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply
from worker.circuit_breakers import PostgresCircuitBreakers


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Any]:
    upgrade_to_head(database_url)  # a no-op when another test already migrated it
    connections = await asyncpg.create_pool(
        database_url.replace("+asyncpg", ""), min_size=1, max_size=10
    )
    try:
        yield connections
    finally:
        await connections.close()


@pytest.fixture
def breakers(pool: Any) -> PostgresCircuitBreakers:
    return PostgresCircuitBreakers(pool)


OWNER = "user-1"
"""The owner of the runs ``node_request`` stands for: the breakers below are this user's."""


@pytest.fixture
def service() -> str:
    return f"svc-{uuid.uuid4().hex[:10]}"


def mine(service: str) -> BreakerKey:
    """``OWNER``'s breaker of ``service``."""
    return BreakerKey(service, OWNER)


async def configure(pool: Any, service: str, **config: Any) -> None:
    columns = ", ".join(["service", "owner", *config])
    marks = ", ".join(f"${i}" for i in range(1, len(config) + 3))
    await pool.execute(
        f"INSERT INTO circuit_breakers ({columns}) VALUES ({marks})",
        service,
        OWNER,
        *config.values(),
    )


async def breaker(pool: Any, service: str) -> dict[str, Any]:
    row = await pool.fetchrow(
        "SELECT * FROM circuit_breakers WHERE service = $1 AND owner = $2", service, OWNER
    )
    return dict(row) if row is not None else {}


async def eventually_allowed(breakers: PostgresCircuitBreakers, service: str) -> Permit:
    """The first permit once the reset timeout has passed (polled with a deadline)."""

    async def permit() -> Permit | None:
        try:
            return await breakers.allow(mine(service))
        except CircuitOpen:
            return None

    return await eventually(permit, within=10, what="the breaker to let a probe through")


def call(peer: Peer, path: str, service: str) -> Any:
    return node_request({"url": f"{peer.url}{path}"}, circuit_breaker=service)


async def test_opens_after_the_threshold_then_fails_fast_without_calling(
    http_client: httpx.AsyncClient,
    breakers: PostgresCircuitBreakers,
    pool: Any,
    peer: Peer,
    service: str,
) -> None:
    await configure(pool, service, failure_threshold=3, reset_timeout=60.0)
    peer.route("/down", Reply(status=503))
    http = HttpActivity(http_client, breakers=breakers, keys=TEST_KEYS)

    failures = [await fail(http.http, call(peer, "/down", service)) for _ in range(3)]
    refused = await fail(http.http, call(peer, "/down", service))

    assert [error.type for error in failures] == ["HttpStatusError"] * 3
    assert len(peer.hits("/down")) == 3
    assert refused.type == "CircuitOpen"
    assert not refused.non_retryable
    assert refused.next_retry_delay is not None
    assert 50 < refused.next_retry_delay.total_seconds() <= 60
    assert f"circuit breaker {service!r} is open after 3 consecutive" in refused.message
    state = await breaker(pool, service)
    assert (state["state"], state["failures"]) == ("open", 3)


async def test_half_opens_after_the_reset_timeout_and_a_good_probe_closes_it(
    http_client: httpx.AsyncClient,
    breakers: PostgresCircuitBreakers,
    pool: Any,
    peer: Peer,
    service: str,
) -> None:
    await configure(pool, service, failure_threshold=1, reset_timeout=0.3)
    peer.script("/flaky", [Reply(status=500), Reply(status=200, body={"ok": True})])
    http = HttpActivity(http_client, breakers=breakers, keys=TEST_KEYS)
    await fail(http.http, call(peer, "/flaky", service))
    assert (await breaker(pool, service))["state"] == "open"

    permit = await eventually_allowed(breakers, service)
    assert permit == Permit(mine(service), probe=True)
    assert (await breaker(pool, service))["state"] == "half_open"
    await breakers.report(permit, "neither")  # give the probe slot back to the node below

    output = await run(http.http, call(peer, "/flaky", service))

    assert output["body"] == {"ok": True}
    state = await breaker(pool, service)
    assert (state["state"], state["failures"], state["opened_at"]) == ("closed", 0, None)
    assert len(peer.hits("/flaky")) == 2


async def test_a_failed_probe_opens_it_again(
    http_client: httpx.AsyncClient,
    breakers: PostgresCircuitBreakers,
    pool: Any,
    peer: Peer,
    service: str,
) -> None:
    await configure(pool, service, failure_threshold=1, reset_timeout=0.3)
    peer.route("/down", Reply(status=502))
    http = HttpActivity(http_client, breakers=breakers, keys=TEST_KEYS)
    await fail(http.http, call(peer, "/down", service))
    first_opened = (await breaker(pool, service))["opened_at"]
    await breakers.report(await eventually_allowed(breakers, service), "neither")

    probe = await fail(http.http, call(peer, "/down", service))
    refused = await fail(http.http, call(peer, "/down", service))

    assert (probe.type, refused.type) == ("HttpStatusError", "CircuitOpen")
    state = await breaker(pool, service)
    assert state["state"] == "open"
    assert state["opened_at"] > first_opened
    assert len(peer.hits("/down")) == 2


async def test_half_open_lets_through_only_half_open_max_calls_probes_at_once(
    breakers: PostgresCircuitBreakers, pool: Any, service: str
) -> None:
    # A probe slot frees itself reset_timeout after its last use: 1 s keeps the first
    # probe's slot taken while the six below ask, even on a loaded machine.
    await configure(pool, service, failure_threshold=1, reset_timeout=1.0, half_open_max_calls=2)
    await breakers.report(Permit(mine(service)), "failure")
    await eventually_allowed(breakers, service)  # the first probe, kept in flight

    outcomes = await asyncio.gather(
        *(breakers.allow(mine(service)) for _ in range(6)), return_exceptions=True
    )

    assert outcomes.count(Permit(mine(service), probe=True)) == 1
    assert sum(isinstance(o, CircuitOpen) for o in outcomes) == 5
    assert (await breaker(pool, service))["half_open_calls"] == 2


async def test_concurrent_failures_are_all_counted(
    breakers: PostgresCircuitBreakers, pool: Any, service: str
) -> None:
    await configure(pool, service, failure_threshold=1000)

    await asyncio.gather(*(breakers.report(Permit(mine(service)), "failure") for _ in range(40)))

    assert (await breaker(pool, service))["failures"] == 40


@pytest.mark.parametrize(("status", "counted"), [(404, 0), (400, 0), (429, 1), (504, 1)])
async def test_only_answers_that_say_the_service_is_unwell_count(
    http_client: httpx.AsyncClient,
    breakers: PostgresCircuitBreakers,
    pool: Any,
    peer: Peer,
    service: str,
    status: int,
    counted: int,
) -> None:
    await configure(pool, service, failure_threshold=5)
    peer.route("/x", Reply(status=status))
    http = HttpActivity(http_client, breakers=breakers, keys=TEST_KEYS)

    await fail(http.http, node_request({"url": f"{peer.url}/x"}, circuit_breaker=service))

    assert (await breaker(pool, service))["failures"] == counted


async def test_without_a_key_the_breaker_is_the_destination_host(
    http_client: httpx.AsyncClient, breakers: PostgresCircuitBreakers, pool: Any
) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    host = f"http://127.0.0.1:{port}"  # the implicit key: scheme, host and port
    before = (await breaker(pool, host)).get("failures", 0)
    try:
        refused = await fail(
            HttpActivity(http_client, breakers=breakers, keys=TEST_KEYS).http,
            node_request({"url": f"http://127.0.0.1:{port}/x"}),
        )
        assert refused.type == "HttpNetworkError"
        assert (await breaker(pool, host))["failures"] == before + 1
    finally:
        await pool.execute("DELETE FROM circuit_breakers WHERE service = $1", host)


async def test_a_call_the_egress_guard_refuses_is_not_counted(
    http_client: httpx.AsyncClient, breakers: PostgresCircuitBreakers, pool: Any, service: str
) -> None:
    await configure(pool, service, failure_threshold=1)
    http = HttpActivity(http_client, breakers=breakers, keys=TEST_KEYS)

    denied = await fail(
        http.http, node_request({"url": "http://127.0.0.3:9/"}, circuit_breaker=service)
    )

    assert denied.type == "EgressDenied"
    assert (await breaker(pool, service))["failures"] == 0


async def test_a_breaker_store_that_fails_never_fails_the_call(
    http_client: httpx.AsyncClient, database_url: str, peer: Peer, service: str
) -> None:
    closed = await asyncpg.create_pool(database_url.replace("+asyncpg", ""), min_size=1)
    await closed.close()
    http = HttpActivity(http_client, breakers=PostgresCircuitBreakers(closed), keys=TEST_KEYS)

    output = await run(http.http, call(peer, "/ok", service))

    assert output["status"] == 200


async def test_webhook_attempts_refused_by_the_breaker_are_recorded(
    http_client: httpx.AsyncClient,
    breakers: PostgresCircuitBreakers,
    pool: Any,
    peer: Peer,
    service: str,
) -> None:
    await configure(pool, service, failure_threshold=1, reset_timeout=60.0)
    peer.route("/hook", Reply(status=503))
    recorder = MemoryRecorder()
    hook = WebhookActivity(http_client, recorder=recorder, breakers=breakers, keys=TEST_KEYS)
    request = node_request(
        {"url": f"{peer.url}/hook", "payload": {"a": 1}},
        node_type="webhook",
        circuit_breaker=service,
    )

    first = await fail(hook.webhook, request)
    second = await fail(hook.webhook, request)

    assert (first.type, second.type) == ("HttpStatusError", "CircuitOpen")
    assert [r.error_type for r in recorder.records] == ["HttpStatusError", "CircuitOpen"]
    assert recorder.records[1].status is None
    assert len(peer.hits("/hook")) == 1


async def test_a_run_without_proof_cannot_open_the_breaker_of_the_owner_it_names(
    http_client: httpx.AsyncClient,
    breakers: PostgresCircuitBreakers,
    pool: Any,
    peer: Peer,
    service: str,
) -> None:
    # A run started straight on Temporal names OWNER but carries no proof the API issued.
    await configure(pool, service, failure_threshold=2, reset_timeout=60.0)
    peer.route("/down", Reply(status=503))
    peer.route("/up", Reply(body={"ok": True}))
    http = HttpActivity(http_client, breakers=breakers, keys=TEST_KEYS)
    forged = node_request(
        {"method": "GET", "url": f"{peer.url}/down"}, circuit_breaker=service, proven=False
    )

    for _ in range(4):
        await fail(http.http, forged)
    answered = await run(http.http, call(peer, "/up", service))

    assert len(peer.hits("/down")) == 4
    assert answered["status"] == 200
    assert (await breaker(pool, service))["failures"] == 0


class CountingPool:
    """The real pool, counting the statements sent through it."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.statements = 0

    async def fetchrow(self, *args: Any) -> Any:
        self.statements += 1
        return await self.pool.fetchrow(*args)

    async def execute(self, *args: Any) -> Any:
        self.statements += 1
        return await self.pool.execute(*args)

    def acquire(self) -> Any:
        self.statements += 1  # a failure's insert and count, on one connection
        return self.pool.acquire()


async def test_a_cached_closed_breaker_costs_no_query_per_call(
    http_client: httpx.AsyncClient, pool: Any, peer: Peer, service: str
) -> None:
    await configure(pool, service, failure_threshold=3)
    counting = CountingPool(pool)
    cached = PostgresCircuitBreakers(counting, cache_seconds=60)
    http = HttpActivity(http_client, breakers=cached, keys=TEST_KEYS)

    for _ in range(10):
        assert (await run(http.http, call(peer, "/ok", service)))["status"] == 200

    assert counting.statements == 1  # the first call's read
    assert len(peer.hits("/ok")) == 10


async def test_with_a_cache_every_failure_is_written_and_the_breaker_it_opens_refuses_at_once(
    http_client: httpx.AsyncClient, pool: Any, peer: Peer, service: str
) -> None:
    await configure(pool, service, failure_threshold=2, reset_timeout=60.0)
    peer.script("/flaky", [Reply(status=200), Reply(status=503), Reply(status=503)])
    http = HttpActivity(
        http_client, breakers=PostgresCircuitBreakers(pool, cache_seconds=60), keys=TEST_KEYS
    )
    await run(http.http, call(peer, "/flaky", service))  # read closed: remembered

    first = await fail(http.http, call(peer, "/flaky", service))
    assert (await breaker(pool, service))["failures"] == 1
    second = await fail(http.http, call(peer, "/flaky", service))
    refused = await fail(http.http, call(peer, "/flaky", service))

    assert (first.type, second.type, refused.type) == (
        "HttpStatusError",
        "HttpStatusError",
        "CircuitOpen",
    )
    state = await breaker(pool, service)
    assert (state["state"], state["failures"]) == ("open", 2)
    assert len(peer.hits("/flaky")) == 3


async def test_a_breaker_another_worker_opened_is_seen_within_the_cache_seconds(
    pool: Any, service: str
) -> None:
    await configure(pool, service, failure_threshold=1, reset_timeout=60.0)
    ttl = 1.0
    here = PostgresCircuitBreakers(pool, cache_seconds=ttl)
    elsewhere = PostgresCircuitBreakers(pool, cache_seconds=ttl)
    await here.report(await here.allow(mine(service)), "success")  # read closed: remembered

    await elsewhere.report(await elsewhere.allow(mine(service)), "failure")
    opened = time.monotonic()
    assert (await breaker(pool, service))["state"] == "open"

    async def refused() -> bool:
        try:
            await here.allow(mine(service))
        except CircuitOpen:
            return True
        return False

    await eventually(refused, within=10, what="the other worker's open breaker to be seen")
    assert time.monotonic() - opened < ttl + 1.0

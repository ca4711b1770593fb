"""The circuit-breaker routes: each user's own breakers, and the shared ones admins define."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from temporalio.worker import Worker

from app.settings import Settings
from interpreter.activities.circuit import BreakerKey, Permit
from tests.support.api import API, Actor, MakeUser, definition, run_becomes, run_of
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply, running_peer
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


@pytest.fixture
def other_peer() -> Iterator[Peer]:
    """A second peer on 127.0.0.1: the same host as ``peer``, another port."""
    yield from running_peer()


@pytest.fixture
async def user_a(make_user: MakeUser) -> Actor:
    return await make_user("editor")


@pytest.fixture
async def user_b(make_user: MakeUser) -> Actor:
    return await make_user("editor")


def calling(url: str, circuit_breaker: str | None = None) -> dict[str, Any]:
    """A workflow of one http node, tried once, whose output is the response body."""
    node: dict[str, Any] = {
        "id": "call",
        "type": "http",
        "retry": {"max_attempts": 1},
        "config": {"url": url},
    }
    if circuit_breaker is not None:
        node["circuit_breaker"] = circuit_breaker
    return definition(nodes=[node], output="{{ nodes.call.output.body }}")


async def node_error(http: httpx.AsyncClient, actor: Actor, body: dict[str, Any]) -> Any:
    """Run ``body`` as ``actor``; the error of its failed ``call`` node."""
    run = await run_becomes(http, actor, await run_of(http, actor, body), "failed")
    return next(n for n in run["nodes"] if n["id"] == "call")["error"]


async def listed(http: httpx.AsyncClient, actor: Actor) -> list[dict[str, Any]]:
    response = await http.get(BREAKERS, headers=actor.headers, params={"limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_user_cannot_open_another_users_breaker_by_failing_under_its_name(
    http: httpx.AsyncClient,
    worker: Worker,
    admin: Actor,
    user_a: Actor,
    user_b: Actor,
    peer: Peer,
    service: str,
) -> None:
    peer.route("/a", Reply(body={"ok": "a"}))
    peer.route("/down", Reply(status=503))
    assert (await configure(http, user_a, service, failure_threshold=2)).status_code == 200
    assert (await configure(http, user_b, service, failure_threshold=2)).status_code == 200

    # B fails calls under the name A's workflow uses until B's breaker opens.
    for _ in range(2):
        assert (await node_error(http, user_b, calling(f"{peer.url}/down", service)))[
            "type"
        ] == "HttpStatusError"
    refused = await node_error(http, user_b, calling(f"{peer.url}/down", service))

    assert refused["type"] == "CircuitOpen"
    assert (
        f"circuit breaker {service!r} is open after 2 consecutive failure(s)"
        in (refused["message"])
    )
    assert "your workflows' own" in refused["message"]
    assert f"GET /api/v1/circuit-breakers/{service}" in refused["message"]
    assert len(peer.hits("/down")) == 2
    mine = (await http.get(f"{BREAKERS}/{service}", headers=user_a.headers)).json()
    assert (mine["state"], mine["failures"], mine["owner"]) == ("closed", 0, user_a.id)
    a_run = await run_of(http, user_a, calling(f"{peer.url}/a", service))
    assert (await run_becomes(http, user_a, a_run, "succeeded"))["output"] == {"ok": "a"}
    assert len(peer.hits("/a")) == 1

    # B sees only B's own, and cannot reach A's by owner_id.
    b_sees = await listed(http, user_b)
    assert {item["owner"] for item in b_sees} <= {user_b.id, None}
    assert [item["state"] for item in b_sees if item["service"] == service] == ["open"]
    as_a = {"owner_id": user_a.id}
    for response in (
        await http.get(f"{BREAKERS}/{service}", headers=user_b.headers, params=as_a),
        await http.post(f"{BREAKERS}/{service}/reset", headers=user_b.headers, params=as_a),
        await http.delete(f"{BREAKERS}/{service}", headers=user_b.headers, params=as_a),
        await http.put(
            f"{BREAKERS}/{service}/config", json={}, headers=user_b.headers, params=as_a
        ),
    ):
        assert response.status_code == 404
        assert user_a.id in response.json()["detail"]
    assert (await http.get(f"{BREAKERS}/{service}", headers=user_a.headers)).json() == mine

    # An admin sees both, with their owners, and may manage anyone's.
    owners = {item["owner"] for item in await listed(http, admin) if item["service"] == service}
    assert owners == {user_a.id, user_b.id}
    reset = await http.post(
        f"{BREAKERS}/{service}/reset", headers=admin.headers, params={"owner_id": user_b.id}
    )
    assert reset.status_code == 200, reset.text
    assert (reset.json()["state"], reset.json()["owner"]) == ("closed", user_b.id)


async def test_a_user_cannot_open_another_users_breaker_on_another_port_of_the_host(
    http: httpx.AsyncClient,
    worker: Worker,
    user_a: Actor,
    user_b: Actor,
    peer: Peer,
    other_peer: Peer,
) -> None:
    peer.route("/a", Reply(body={"ok": "a"}))
    other_peer.route("/down", Reply(status=503))
    b_key = f"http://127.0.0.1:{other_peer.port}"
    configured = await configure(http, user_b, b_key, failure_threshold=1)
    assert configured.status_code == 200, configured.text
    assert configured.json()["service"] == b_key

    assert (await node_error(http, user_b, calling(f"{other_peer.url}/down")))[
        "type"
    ] == "HttpStatusError"
    refused = await node_error(http, user_b, calling(f"{other_peer.url}/down"))

    assert refused["type"] == "CircuitOpen"
    assert f"circuit breaker {b_key!r} is open" in refused["message"]
    a_run = await run_of(http, user_a, calling(f"{peer.url}/a"))
    assert (await run_becomes(http, user_a, a_run, "succeeded"))["output"] == {"ok": "a"}
    a_key = f"http://127.0.0.1:{peer.port}"
    assert (await http.get(f"{BREAKERS}/{a_key}", headers=user_a.headers)).status_code == 404
    assert b_key not in [item["service"] for item in await listed(http, user_a)]
    b_breaker = (await http.get(f"{BREAKERS}/{b_key}", headers=user_b.headers)).json()
    assert (b_breaker["state"], b_breaker["owner"]) == ("open", user_b.id)
    assert (await http.delete(f"{BREAKERS}/{b_key}", headers=user_a.headers)).status_code == 404
    assert (await http.delete(f"{BREAKERS}/{b_key}", headers=user_b.headers)).status_code == 204


async def test_a_shared_breaker_an_admin_defines_counts_every_users_calls(
    http: httpx.AsyncClient,
    worker: Worker,
    admin: Actor,
    user_a: Actor,
    user_b: Actor,
    peer: Peer,
    shared: str,
) -> None:
    peer.route("/down", Reply(status=503))
    peer.route("/a", Reply(body={"ok": "a"}))
    assert (await configure(http, user_b, shared, failure_threshold=1)).status_code == 403
    defined = await configure(http, admin, shared, failure_threshold=1, reset_timeout=60)
    assert defined.status_code == 200, defined.text
    assert (defined.json()["owner"], defined.json()["shared"]) == (None, True)

    assert (await node_error(http, user_b, calling(f"{peer.url}/down", shared)))[
        "type"
    ] == "HttpStatusError"
    refused = await node_error(http, user_a, calling(f"{peer.url}/a", shared))

    assert refused["type"] == "CircuitOpen"
    assert (
        f"circuit breaker {shared!r} is open after 1 consecutive failure(s)" in (refused["message"])
    )
    assert "the shared breaker an admin defined" in refused["message"]
    assert not peer.hits("/a")
    for user in (user_a, user_b):
        assert shared in [item["service"] for item in await listed(http, user)]
        forbidden = await http.post(f"{BREAKERS}/{shared}/reset", headers=user.headers)
        assert forbidden.status_code == 403
    assert (await http.post(f"{BREAKERS}/{shared}/reset", headers=admin.headers)).status_code == 200


async def test_a_node_naming_a_shared_breaker_no_admin_defined_fails_saying_so(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer, shared: str
) -> None:
    error = await node_error(http, editor, calling(f"{peer.url}/a", shared))

    assert error["type"] == "ConfigError"
    assert (
        f"node 'call': circuit_breaker: no shared circuit breaker {shared!r}" in (error["message"])
    )
    assert not peer.hits("/a")
    missing = await http.get(f"{BREAKERS}/{shared}", headers=editor.headers)
    assert missing.status_code == 404
    assert "an admin defines it" in missing.json()["detail"]


async def test_an_open_breaker_reads_half_open_once_its_reset_timeout_passed(
    http: httpx.AsyncClient, editor: Actor, service: str, store: PostgresCircuitBreakers
) -> None:
    await configure(http, editor, service, failure_threshold=1, reset_timeout=0.5)
    await store.report(Permit(BreakerKey(service, editor.id)), "failure")
    opened = (await http.get(f"{BREAKERS}/{service}", headers=editor.headers)).json()
    assert opened["state"] == "open"
    assert opened["open_until"] is not None

    async def half_open() -> dict[str, Any] | None:
        read = (await http.get(f"{BREAKERS}/{service}", headers=editor.headers)).json()
        return read if read["state"] == "half_open" else None

    probing = await eventually(half_open, within=10, what="the breaker to read half_open")
    assert (probing["failures"], probing["open_until"]) == (1, None)
    listing = [item for item in await listed(http, editor) if item["service"] == service]
    assert [item["state"] for item in listing] == ["half_open"]


async def test_a_viewer_reads_its_own_breakers_and_changes_none(
    http: httpx.AsyncClient, viewer: Actor, service: str, store: PostgresCircuitBreakers
) -> None:
    await store.report(Permit(BreakerKey(service, viewer.id)), "failure")

    read = await http.get(f"{BREAKERS}/{service}", headers=viewer.headers)
    changes = [
        await configure(http, viewer, service, failure_threshold=1),
        await http.post(f"{BREAKERS}/{service}/reset", headers=viewer.headers),
        await http.delete(f"{BREAKERS}/{service}", headers=viewer.headers),
    ]

    assert (read.status_code, read.json()["failures"], read.json()["owner"]) == (200, 1, viewer.id)
    assert [response.status_code for response in changes] == [403, 403, 403]
    assert "viewers may only read" in changes[0].json()["detail"]


async def test_an_admin_addressing_a_user_who_does_not_exist_gets_404(
    http: httpx.AsyncClient, admin: Actor, service: str
) -> None:
    nobody = str(uuid.uuid4())
    response = await http.get(
        f"{BREAKERS}/{service}", headers=admin.headers, params={"owner_id": nobody}
    )
    assert response.status_code == 404
    assert nobody in response.json()["detail"]

"""http nodes on a real worker aim at the FlowForge stack itself, with 127.0.0.1 allow-listed.

The worker knows where the stack listens from its settings (Temporal's
frontend, the tests' PostgreSQL, a peer listed in ``stack_addresses``); each
call is refused before a connection is opened, while a peer on another
127.0.0.1 port answers.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from temporalio.client import Client, WorkflowFailureError

from interpreter.contract.client import start_run
from interpreter.contract.run import NodeError
from tests.support.peer import Peer, Reply
from tests.support.workflows import make_run, snapshot
from worker.runtime import create_worker, http_client
from worker.settings import WorkerSettings

Call = Callable[[str], Awaitable[Any]]
"""``await call(url)``: the output of a one-node run GETting ``url``, or its NodeError."""


@pytest.fixture
def stack_peer(client: Client) -> Iterator[Peer]:
    """A server on 127.0.0.1 that the worker is told is part of the stack (the API, say).

    Its port is free, so it may be one the worker already counts as another
    part (the frontend's +10 or +1000); the refusal would then name that part
    instead, so such a port is given back and another taken.
    """
    _, port = frontend(client)
    taken = {port, port + 10, port + 1000}
    spare: list[Peer] = []
    try:
        peer = Peer("127.0.0.1")
        while peer.port in taken:
            spare.append(peer)
            peer = Peer("127.0.0.1")
    finally:
        for other in spare:
            other.close()
    try:
        yield peer
    finally:
        peer.close()


def frontend(client: Client) -> tuple[str, int]:
    host, _, port = client.service_client.config.target_host.rpartition(":")
    return host, int(port)


def postgres(database_url: str) -> tuple[str, int]:
    parts = urlsplit(database_url)
    return parts.hostname or "127.0.0.1", parts.port or 5432


async def calls(client: Client, task_queue: str, settings: WorkerSettings) -> AsyncIterator[Call]:
    async with http_client(settings) as http:
        worker = create_worker(client, settings, task_queue=task_queue, http=http)
        async with worker:

            async def call(url: str) -> Any:
                definition = {
                    "name": "ssrf",
                    "nodes": [{"id": "get", "type": "http", "config": {"url": url}}],
                }
                run = make_run(definition)
                handle = await start_run(
                    client, run, id=f"run-{uuid.uuid4().hex[:12]}", task_queue=task_queue
                )
                try:
                    return (await handle.result())["get"]
                except WorkflowFailureError:
                    node = (await snapshot(handle)).nodes[0]
                    assert node.attempts == 1
                    return node.error

            yield call


@pytest.fixture
async def allow_loopback(
    client: Client, task_queue: str, database_url: str, stack_peer: Peer
) -> AsyncIterator[Call]:
    """A worker allowing all of 127.0.0.1, as ``FLOWFORGE_EGRESS_ALLOW=127.0.0.1/32`` does."""
    settings = WorkerSettings(
        egress_allow=["127.0.0.1/32"],
        temporal_address=client.service_client.config.target_host,
        database_url=database_url,
        stack_addresses=[f"FlowForge API=127.0.0.1:{stack_peer.port}"],
        graceful_shutdown_seconds=0,
    )
    async for call in calls(client, task_queue, settings):
        yield call


def refused(error: Any, part: str) -> NodeError:
    assert isinstance(error, NodeError), error
    assert error.type == "EgressDenied"
    assert f"part of the FlowForge stack ({part})" in error.message
    assert "FLOWFORGE_EGRESS_ALLOW_STACK" in error.message
    return error


async def test_a_node_cannot_call_the_temporal_frontend(
    allow_loopback: Call, client: Client
) -> None:
    host, port = frontend(client)
    error = refused(await allow_loopback(f"http://{host}:{port}/"), "Temporal frontend")
    assert f":{port} " in error.message


async def test_a_node_cannot_call_postgresql(allow_loopback: Call, database_url: str) -> None:
    host, port = postgres(database_url)
    error = refused(await allow_loopback(f"http://{host}:{port}/"), "PostgreSQL")
    assert f":{port} " in error.message


async def test_a_node_cannot_call_a_listed_stack_address(
    allow_loopback: Call, stack_peer: Peer
) -> None:
    refused(await allow_loopback(f"{stack_peer.url}/api/v1/users"), "FlowForge API")
    assert stack_peer.requests == []


@pytest.mark.parametrize("spelling", ["[::ffff:7f00:1]", "[::ffff:0:7f00:1]", "[64:ff9b::7f00:1]"])
async def test_an_ipv6_spelling_of_a_stack_address_is_that_address(
    allow_loopback: Call, stack_peer: Peer, spelling: str
) -> None:
    error = refused(await allow_loopback(f"http://{spelling}:{stack_peer.port}/"), "FlowForge API")
    assert "an IPv6 form of 127.0.0.1" in error.message
    assert stack_peer.requests == []


async def test_a_peer_on_another_port_still_answers(allow_loopback: Call, peer: Peer) -> None:
    peer.route("/ok", Reply(body={"ok": True}))
    output = await allow_loopback(f"{peer.url}/ok")
    assert output["status"] == 200
    assert output["body"] == {"ok": True}


@pytest.fixture
async def one_port(
    client: Client, task_queue: str, database_url: str, peer: Peer
) -> AsyncIterator[Call]:
    """A worker allowing only the peer's port of 127.0.0.1, as the README's dev example does."""
    settings = WorkerSettings(
        egress_allow=[f"127.0.0.1:{peer.port}"],
        temporal_address=client.service_client.config.target_host,
        database_url=database_url,
        graceful_shutdown_seconds=0,
    )
    async for call in calls(client, task_queue, settings):
        yield call


async def test_a_port_scoped_entry_allows_that_port_only(
    one_port: Call, peer: Peer, stack_peer: Peer
) -> None:
    peer.route("/ok", Reply(body={"ok": True}))
    assert (await one_port(f"{peer.url}/ok"))["status"] == 200

    error = await one_port(f"{stack_peer.url}/")
    assert isinstance(error, NodeError)
    assert error.type == "EgressDenied"
    assert "127.0.0.1 is loopback" in error.message
    assert stack_peer.requests == []


@pytest.mark.parametrize(
    ("spelling", "message"),
    [
        ("[::ffff:0:7f00:2]", "an IPv6 form of 127.0.0.2, which is loopback"),
        ("[64:ff9b::a00:1]", "an IPv6 form of 10.0.0.1, which is private"),
        ("[64:ff9b:1::a9fe:a9fe]", "an IPv6 form of 169.254.169.254, which is link-local"),
        ("[::ffff:0:c0a8:101]", "an IPv6 form of 192.168.1.1, which is private"),
    ],
)
async def test_translated_and_nat64_spellings_are_judged_as_their_ipv4_address(
    one_port: Call, peer: Peer, spelling: str, message: str
) -> None:
    error = await one_port(f"http://{spelling}:{peer.port}/")
    assert isinstance(error, NodeError)
    assert error.type == "EgressDenied"
    assert message in error.message
    assert peer.requests == []

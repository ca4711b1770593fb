"""An HTTP activity wired like a worker's, allowed to reach only the test peers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from interpreter.activities import HttpActivity, HttpSettings, build_http_client
from interpreter.egress import EgressPolicy
from tests.support.peer import Peer

PEER_ONLY = EgressPolicy(allow=["127.0.0.1/32"])
"""Lets the peers on 127.0.0.1 through; every other local address stays refused."""


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with build_http_client(PEER_ONLY, max_connections=20) as client:
        yield client


@pytest.fixture
def http(http_client: httpx.AsyncClient) -> HttpActivity:
    return HttpActivity(http_client, HttpSettings(max_redirects=3))


@pytest.fixture
def canary() -> Iterator[Peer]:
    """A peer on 127.0.0.2 (not allow-listed): any request reaching it is a guard failure."""
    server = Peer("127.0.0.2")
    try:
        yield server
    finally:
        server.close()

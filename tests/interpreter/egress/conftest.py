"""Guarded clients with the policies the egress tests need, and a canary server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from interpreter.activities import build_http_client
from interpreter.egress import EgressPolicy
from tests.support.peer import Peer


@pytest.fixture
async def strict() -> AsyncIterator[httpx.AsyncClient]:
    """Allows nothing local: even the test peer on 127.0.0.1 is refused."""
    async with build_http_client(EgressPolicy(), max_connections=5) as client:
        yield client


@pytest.fixture
async def peer_only() -> AsyncIterator[httpx.AsyncClient]:
    """Allows exactly 127.0.0.1, where the test peers listen."""
    async with build_http_client(EgressPolicy(["127.0.0.1/32"]), max_connections=5) as client:
        yield client


@pytest.fixture
def canary() -> Iterator[Peer]:
    """A server on 127.0.0.2 (never allow-listed): any request reaching it is a guard failure."""
    server = Peer("127.0.0.2")
    try:
        yield server
    finally:
        server.close()

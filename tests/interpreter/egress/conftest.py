"""Guarded clients with the policies the egress tests need."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from interpreter.activities import build_http_client
from interpreter.egress import EgressPolicy


@pytest.fixture
async def strict() -> AsyncIterator[httpx.AsyncClient]:
    """Allows nothing local: even the test peer on 127.0.0.1 is refused."""
    async with build_http_client(EgressPolicy(), max_connections=5) as client:
        yield client


@pytest.fixture
def peer_only(http_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Allows exactly 127.0.0.1, where the test peers listen (the suite's guarded client)."""
    return http_client

"""A hung PostgreSQL fails the worker's store calls in time, as a retryable error.

The worker's stores run over its one bounded pool (``worker.database``)
against a server of the test's own, which the test stops with SIGSTOP.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from interpreter.activities.base import to_application_error
from interpreter.activities.circuit import BreakerKey
from interpreter.dsl.definition import RetrySpec
from interpreter.errors import StoreUnavailable
from tests.support.eventually import eventually
from tests.support.postgres import OwnPostgres, frozen, own_postgres
from worker.database import Stores, database_pool, stores
from worker.settings import WorkerSettings

TIMEOUT = 2.0
"""Every database bound of the worker under test, in seconds."""

MARGIN = 3.0
"""Slack for a shared 2-core machine on top of the bound."""


@pytest.fixture(scope="module")
def postgres() -> Iterator[OwnPostgres]:
    with own_postgres() as own:
        yield own


@pytest.fixture
async def kept(postgres: OwnPostgres, tmp_path: Path) -> AsyncIterator[Stores]:
    settings = WorkerSettings(
        DATABASE_URL=postgres.server.url,
        data_dir=str(tmp_path),
        environment="test",
        db_connect_timeout=TIMEOUT,
        db_statement_timeout=TIMEOUT,
        db_pool_timeout=TIMEOUT,
    )
    async with database_pool(settings) as pool:
        yield stores(settings, pool)


async def test_a_secrets_read_on_a_stopped_postgres_fails_in_time_and_retryable(
    postgres: OwnPostgres, kept: Stores
) -> None:
    assert kept.secrets is not None
    assert kept.breakers is not None
    owner = str(uuid.uuid4())
    assert await kept.secrets.values(owner, None) == {}
    figures: dict[str, float] = {}
    with frozen(postgres):
        for attempt in range(3):  # the pooled connection first, then new ones
            started_at = time.monotonic()
            with pytest.raises(StoreUnavailable) as failed:
                await kept.secrets.values(owner, {"token"})
            figures[f"secrets {attempt}"] = took = time.monotonic() - started_at
            assert took < TIMEOUT + MARGIN, f"attempt {attempt} took {took:.2f} s"
            message = str(failed.value)
            assert "PostgreSQL" in message, message
            assert f"{TIMEOUT:g} s" in message, message
            assert "secrets" in message, message
            error = to_application_error(failed.value, RetrySpec(), attempt + 1)
            assert error.type == "StoreUnavailable"
            assert not error.non_retryable
        started_at = time.monotonic()
        with pytest.raises(StoreUnavailable, match="circuit breaker"):
            await kept.breakers.allow(BreakerKey("https://api.example.com:443", owner))
        figures["breaker"] = took = time.monotonic() - started_at
        assert took < TIMEOUT + MARGIN

    async def readable() -> bool:
        assert kept.secrets is not None
        try:
            return await kept.secrets.values(owner, None) == {}
        except StoreUnavailable:
            return False

    resumed = time.monotonic()
    await eventually(readable, within=15, what="the secrets to be readable again")
    figures["recovered after"] = time.monotonic() - resumed
    print("frozen PostgreSQL, worker seconds:", {k: round(v, 2) for k, v in figures.items()})

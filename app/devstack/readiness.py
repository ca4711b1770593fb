"""Waiting, with a deadline, until each part of the dev stack answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from interpreter.contract import search_attributes

_INTERVAL = 0.25


class NotReady(Exception):
    """A part of the stack did not answer in time; the message says which and where."""


async def _poll(what: str, check: Callable[[], Awaitable[bool]], deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    last_error = ""
    while time.monotonic() < deadline:
        try:
            if await check():
                return
        except Exception as error:  # any failure to answer means: not yet
            last_error = f" (last error: {error})"
        await asyncio.sleep(_INTERVAL)
    raise NotReady(f"{what} did not answer within {deadline_s:g} s{last_error}")


async def wait_for_postgres(url: str, deadline_s: float) -> None:
    """Until PostgreSQL at ``url`` (a ``postgresql+asyncpg://`` URL) runs a query."""
    engine = create_async_engine(url, connect_args={"timeout": 2}, poolclass=NullPool)

    async def check() -> bool:
        async with engine.connect() as connection:
            return bool((await connection.execute(text("SELECT 1"))).scalar() == 1)

    try:
        await _poll(f"PostgreSQL at {_without_password(url)}", check, deadline_s)
    finally:
        await engine.dispose()


async def wait_for_temporal(address: str, namespace: str, deadline_s: float) -> None:
    """Until Temporal at ``address`` serves ``namespace`` with our search attributes."""
    wanted = {key.name for key in search_attributes.ALL}

    async def check() -> bool:
        client = await Client.connect(address, namespace=namespace)
        answer = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        return wanted <= set(answer.custom_attributes)

    await _poll(f"Temporal at {address} (namespace {namespace})", check, deadline_s)


async def wait_for_tcp(what: str, host: str, port: int, deadline_s: float) -> None:
    """Until ``host:port`` accepts a connection."""

    async def check() -> bool:
        _, writer = await asyncio.open_connection(host, port)
        writer.close()
        await writer.wait_closed()
        return True

    await _poll(f"{what} at {host}:{port}", check, deadline_s)


async def wait_for_http(url: str, deadline_s: float) -> None:
    """Until ``url`` answers 200."""
    async with httpx.AsyncClient(timeout=2, trust_env=False) as client:

        async def check() -> bool:
            return (await client.get(url)).status_code == 200

        await _poll(url, check, deadline_s)


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}@{host}"

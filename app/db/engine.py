"""The async SQLAlchemy engine and its sessions."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

_SYNC_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://", "postgresql+psycopg2://")

_QUERY_CANCELED = "57014"
"""SQLSTATE of a statement the server cancelled, e.g. past its ``statement_timeout``."""


def async_url(database_url: str) -> str:
    """The same URL with the asyncpg driver, whichever PostgreSQL scheme it was given.

    Raises:
        ValueError: the URL is empty or not a PostgreSQL URL.
    """
    if database_url.startswith("postgresql+asyncpg://"):
        return database_url
    for prefix in _SYNC_PREFIXES:
        if database_url.startswith(prefix):
            return "postgresql+asyncpg://" + database_url.removeprefix(prefix)
    raise ValueError(
        "DATABASE_URL must be a PostgreSQL URL such as "
        "postgresql+asyncpg://user:password@host:5432/flowforge"
    )


def make_engine(
    database_url: str,
    *,
    connect_timeout: float = 5.0,
    statement_timeout: float | None = None,
    pool_timeout: float = 30.0,
    pool_size: int = 5,
) -> AsyncEngine:
    """An engine whose every wait on PostgreSQL is bounded.

    asyncpg waits 60 s for a connection by default and forever for an answer;
    short bounds let the API answer 503 quickly while PostgreSQL is down or
    stopped, and recover on its own once it answers again.

    Args:
        database_url: Where PostgreSQL is (any PostgreSQL scheme).
        connect_timeout: Seconds a new connection may take.
        statement_timeout: Seconds one statement may take, on both sides: the
            server cancels it (``statement_timeout``) and the client gives up
            on a server that does not answer at all, dropping that connection.
            None (migrations): unbounded.
        pool_timeout: Seconds to wait for a free pooled connection.
        pool_size: Connections the pool keeps open (10 more at most while all are
            busy, each closed when it is returned).
    """
    connect_args: dict[str, Any] = {"timeout": connect_timeout}
    if statement_timeout is not None:
        connect_args["command_timeout"] = statement_timeout
        connect_args["server_settings"] = {"statement_timeout": str(int(statement_timeout * 1000))}
    engine = create_async_engine(
        async_url(database_url),
        pool_pre_ping=True,
        pool_timeout=pool_timeout,
        pool_size=pool_size,
        max_overflow=10,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine, "handle_error", _on_error)
    event.listen(engine.sync_engine.pool, "invalidate", _drop_at_once)
    return engine


def _on_error(context: ExceptionContext) -> BaseException | None:
    error = context.original_exception
    if isinstance(error, TimeoutError):
        # asyncpg gave up waiting for an answer: the connection still waits for
        # the server to acknowledge a cancel, so no statement may use it again.
        context.is_disconnect = True
        # The other pooled connections are checked one by one by the pre-ping;
        # invalidating them all would make the next checkout close each first.
        context.invalidate_pool_on_disconnect = False
        return None
    if getattr(error, "sqlstate", None) == _QUERY_CANCELED:
        return TimeoutError(f"PostgreSQL cancelled the statement: {error}")
    return None


def _drop_at_once(
    _dbapi_connection: Any, record: ConnectionPoolEntry, error: BaseException | None
) -> None:
    # A connection invalidated for a timeout or a cancellation waits on a server
    # that may never answer: a graceful close would wait for it too (asyncpg
    # sends Terminate and drains the cancel), so the socket is dropped instead.
    if isinstance(error, TimeoutError | asyncio.CancelledError) and record.driver_connection:
        record.driver_connection.terminate()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine`` whose objects stay readable after a commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

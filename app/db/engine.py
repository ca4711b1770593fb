"""The async SQLAlchemy engine and its sessions."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

_SYNC_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://", "postgresql+psycopg2://")


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


def make_engine(database_url: str, *, connect_timeout: float = 5.0) -> AsyncEngine:
    """An engine whose connection attempts give up after ``connect_timeout`` seconds.

    asyncpg waits 60 s by default; a short timeout lets the API answer 503
    quickly while PostgreSQL is down.
    """
    return create_async_engine(
        async_url(database_url),
        pool_pre_ping=True,
        connect_args={"timeout": connect_timeout},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine`` whose objects stay readable after a commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

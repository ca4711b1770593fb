"""What one running API process holds: built at startup, reached through ``app.state``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.jwt_secret import resolve_jwt_secret
from app.core.metrics import Metrics
from app.core.snapshots import ClosedSnapshots
from app.core.temporal import TemporalConnector
from app.db.engine import make_engine, make_sessionmaker
from app.security import TokenSigner
from app.settings import Settings


@dataclass
class AppState:
    """The process's shared state: built once at startup (:meth:`build`), kept in ``app.state``."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    temporal: TemporalConnector
    signer: TokenSigner
    metrics: Metrics
    cursor_key: bytes
    """Seals list cursors (see ``app.api.pagination``); derived from the JWT secret."""
    closed_snapshots: ClosedSnapshots
    """Ended runs' status queries' answers (see ``app.core.snapshots``)."""

    @classmethod
    def build(cls, settings: Settings, metrics: Metrics) -> AppState:
        """Everything the API needs; connects to nothing yet.

        Raises:
            ValueError: DATABASE_URL is missing or not PostgreSQL, or no JWT
                secret or payload key is configured outside dev.
        """
        if not settings.database_url:
            raise ValueError(
                "DATABASE_URL is not set: point it at PostgreSQL "
                "(postgresql+asyncpg://user:password@host:5432/flowforge) or use `flowforge dev`"
            )
        engine = make_engine(
            settings.database_url,
            connect_timeout=settings.db_connect_timeout,
            statement_timeout=settings.db_statement_timeout,
            pool_timeout=settings.db_pool_timeout,
            pool_size=settings.db_pool_size,
        )
        secret = resolve_jwt_secret(settings)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            temporal=TemporalConnector(settings),
            signer=TokenSigner(
                secret=secret,
                algorithm=settings.jwt_algorithm,
                lifetime=timedelta(minutes=settings.access_token_minutes),
            ),
            metrics=metrics,
            cursor_key=hashlib.sha256(b"flowforge cursors\0" + secret.encode()).digest(),
            closed_snapshots=ClosedSnapshots(settings.closed_run_snapshot_bytes),
        )

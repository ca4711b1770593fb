"""A PostgreSQL server of a test's own, migrated, that the test may stop and resume.

Stopping (SIGSTOP) the postmaster and every backend is what a hung server
looks like to its clients: connections stay open, the kernel still accepts
new ones, and nothing ever answers.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass

import psutil

from app.db.migrations import upgrade_to_head
from app.devstack.postgres import EmbeddedPostgres, start_embedded


@dataclass(frozen=True)
class OwnPostgres:
    """An embedded server, migrated.

    Attributes:
        server: The running server (its ``url`` is plain ``postgresql://``).
        url: The same database as an SQLAlchemy asyncpg URL.
    """

    server: EmbeddedPostgres

    @property
    def url(self) -> str:
        return self.server.url.replace("postgresql://", "postgresql+asyncpg://", 1)


@contextlib.contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """An embedded PostgreSQL on a free port (never the machine's shared one), migrated."""
    server = start_embedded(None)
    try:
        own = OwnPostgres(server)
        upgrade_to_head(own.url)
        yield own
    finally:
        server.stop()


@contextlib.contextmanager
def frozen(own: OwnPostgres) -> Iterator[None]:
    """The server and every backend stopped (SIGSTOP) for the block, resumed after it."""
    postmaster = psutil.Process(own.server.process.pid)
    stopped: list[int] = []
    try:
        os.kill(postmaster.pid, signal.SIGSTOP)
        stopped.append(postmaster.pid)
        # Listed once the postmaster is stopped, so no backend forks after the list.
        for process in postmaster.children(recursive=True):
            os.kill(process.pid, signal.SIGSTOP)
            stopped.append(process.pid)
        yield
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

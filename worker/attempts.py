"""Keeping every attempt of every activity node in PostgreSQL, for the API's node detail.

Temporal retries activities on its own and keeps only the last attempt's
failure, so the attempts before it would be lost. A worker interceptor sees
each attempt end (succeeded, failed or cancelled) and inserts a row into
``node_attempts`` (created by the API's migrations) with plain SQL, as
webhook deliveries are kept. The insert runs beside the activity, never in its
way: a slow or stopped PostgreSQL delays no node and fails none (the row is
then missing, and the failure logged). Workflows are untouched, so run
histories do not change.

Rows are written in batches: the first attempt to end starts a flush after
``FLOWFORGE_ATTEMPT_LOG_FLUSH_MS``, and every attempt ending meanwhile joins it,
one ``INSERT`` for them all (up to ``MAX_BATCH`` rows). One insert per attempt
cost a pool round trip, a statement and a connection reset each: a twentieth
of the worker's CPU on a chain of http nodes, and as much again in PostgreSQL.
A row thus shows up that much later in the API's node detail. A stopping worker
writes the rows still waiting before it closes its pool (:meth:`AttemptLogInterceptor.drain`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from interpreter.activities.base import ActivityRequest, attempt_of

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000
"""As ``app.db.models.attempt.MAX_ATTEMPT_ERROR_CHARS``: longer messages are cut."""

MAX_BATCH = 500
"""Rows one ``INSERT`` writes at most; more waiting are written by the next."""

_INSERT = """
INSERT INTO node_attempts
    (run_id, node_id, node_path, attempt, outcome, error_type, error, started_at, ended_at)
SELECT * FROM unnest(
    $1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
    $8::timestamptz[], $9::timestamptz[]
)
"""


@dataclass(frozen=True)
class AttemptRecord:
    """One ended attempt of one node."""

    run_id: str
    node_id: str
    node_path: str
    attempt: int
    outcome: str
    error_type: str | None
    error: str | None
    started_at: datetime
    ended_at: datetime


class PostgresAttemptLog:
    """Inserts :class:`AttemptRecord` rows through the worker's bounded pool."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def record(self, entries: Sequence[AttemptRecord]) -> None:
        """Insert ``entries`` in one statement; errors propagate to the caller (which logs them)."""
        columns = [
            [getattr(entry, field.name) for entry in entries] for field in fields(AttemptRecord)
        ]
        await self._pool.execute(_INSERT, *columns)


def outcome_of(error: BaseException | None) -> tuple[str, str | None, str | None]:
    """``(outcome, error_type, error)`` of an attempt that raised ``error`` (None: succeeded)."""
    if error is None:
        return "succeeded", None, None
    if isinstance(error, asyncio.CancelledError):
        return "cancelled", "Cancelled", "the attempt was cancelled"
    if isinstance(error, ApplicationError):
        return "failed", error.type or "ApplicationError", error.message[:MAX_ERROR_CHARS]
    return "failed", type(error).__name__, str(error)[:MAX_ERROR_CHARS]


class AttemptLogInterceptor(Interceptor):
    """Records each node activity attempt as it ends (see the module docstring)."""

    def __init__(self, log: PostgresAttemptLog, flush_seconds: float = 0.2) -> None:
        self._log = log
        self._flush_seconds = flush_seconds
        self._waiting: list[AttemptRecord] = []
        self._pending: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Wrap the activity inbound chain."""
        return _Inbound(next, self)

    def keep(self, entry: AttemptRecord) -> None:
        """Insert ``entry`` in the background, with the others ending about now."""
        self._waiting.append(entry)
        if len(self._waiting) == 1:
            task = asyncio.get_running_loop().create_task(self._flush())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Write every waiting row now and wait for the writes (the worker is stopping)."""
        self._stopping.set()
        await asyncio.gather(*self._pending, return_exceptions=True)

    async def _flush(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self._flush_seconds)
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                await self._log.record(batch)
            except Exception as exc:  # a missing row must not fail or delay the node
                first = batch[0]
                logger.warning(
                    "%d node attempt(s) not recorded, attempt %d of node %s in run %s "
                    "among them: %s",
                    len(batch),
                    first.attempt,
                    first.node_path,
                    first.run_id,
                    exc,
                )


class _Inbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, owner: AttemptLogInterceptor) -> None:
        super().__init__(next)
        self._owner = owner

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        request = input.args[0] if input.args else None
        if not isinstance(request, ActivityRequest):
            return await self.next.execute_activity(input)
        attempt = attempt_of(request)
        started = datetime.now(UTC)
        failure: BaseException | None = None
        try:
            return await self.next.execute_activity(input)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            outcome, error_type, error = outcome_of(failure)
            self._owner.keep(
                AttemptRecord(
                    run_id=request.run_id,
                    node_id=request.node_id,
                    node_path=request.node_path,
                    attempt=attempt,
                    outcome=outcome,
                    error_type=error_type,
                    error=error,
                    started_at=started,
                    ended_at=datetime.now(UTC),
                )
            )

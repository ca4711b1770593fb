"""Login throttling: counters of failed logins per username and per client address.

Every attempt counts as failed from the moment it is let through until its
password checks out (:func:`begin_attempt`, then :func:`attempt_succeeded`):
a burst sent at once is counted while it is still being checked, so it
cannot slip past the free attempts, and an attempt cut short by a crash
stays counted. Past the free attempts, each attempt let through locks its key
for a delay that doubles with every failure, up to a cap; attempts during
the lock are refused without checking any password. The clock is
PostgreSQL's, so every API process agrees on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlalchemy import tuple_ as sa_tuple
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models.login_attempt import AttemptKind, LoginAttempt

Key = tuple[AttemptKind, str]
"""A counter's identity: its kind and the username or address."""

_STALE_BATCH = 100
"""Forgotten counters deleted per attempt: bounded work per call."""


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free and how long each further one locks its key.

    Attributes:
        free_attempts: Failures of each kind of key that lock nothing.
        delay: Seconds the first failure past the free ones locks for; each
            next one doubles it.
        max_delay: The longest lock, in seconds.
        forget_after: A counter with no attempt for this long starts over.
    """

    free_attempts: Mapping[AttemptKind, int]
    delay: float
    max_delay: float
    forget_after: timedelta

    def lock_for(self, kind: AttemptKind, failures: int) -> float:
        """Seconds an attempt that makes ``failures`` locks its key (0: none)."""
        past = failures - self.free_attempts[kind]
        if past <= 0:
            return 0.0
        # Capped exponent: 2**1000 would overflow a float long before the cap.
        return min(self.max_delay, self.delay * 2.0 ** min(past - 1, 60))


async def begin_attempt(
    *, session: AsyncSession, policy: ThrottlePolicy, keys: Sequence[Key]
) -> int:
    """Let a login attempt through and count it as failed, unless a key is locked; commits.

    Returns:
        0 if the attempt may go on; otherwise the whole seconds to wait before
        any key of it is unlocked (nothing is counted then).
    """
    table = LoginAttempt.__table__  # type: ignore[attr-defined]
    ordered = sorted(set(keys))
    now: datetime = (await session.exec(select(func.now()))).one()
    await session.exec(
        insert(table)
        .values([{"kind": k, "key": v, "failures": 0, "updated": now} for k, v in ordered])
        .on_conflict_do_nothing()
    )
    # FOR UPDATE in key order: concurrent attempts on the same keys queue here
    # (no deadlock), so each sees the lock the one before it set.
    rows = (
        await session.exec(
            select(LoginAttempt)
            .where(sa_tuple(col(LoginAttempt.kind), col(LoginAttempt.key)).in_(ordered))
            .order_by(col(LoginAttempt.kind), col(LoginAttempt.key))
            .with_for_update()
        )
    ).all()
    locked = [row.locked_until for row in rows if row.locked_until and row.locked_until > now]
    if locked:
        await session.rollback()
        return max(1, math.ceil((max(locked) - now).total_seconds()))
    for row in rows:
        failures = 1 if row.updated < now - policy.forget_after else row.failures + 1
        lock = policy.lock_for(AttemptKind(row.kind), failures)
        await session.exec(
            update(table)
            .where(table.c.kind == row.kind, table.c.key == row.key)
            .values(
                failures=failures,
                locked_until=now + timedelta(seconds=lock) if lock else None,
                updated=now,
            )
        )
    stale = (
        select(LoginAttempt.kind, LoginAttempt.key)
        .where(col(LoginAttempt.updated) < now - policy.forget_after)
        .limit(_STALE_BATCH)
    )
    await session.exec(
        delete(LoginAttempt).where(
            sa_tuple(col(LoginAttempt.kind), col(LoginAttempt.key)).in_(stale)
        )
    )
    await session.commit()
    return 0


async def attempt_succeeded(*, session: AsyncSession, username: Key, others: Sequence[Key]) -> None:
    """Undo the failure :func:`begin_attempt` counted for a login that checked out; commits.

    The username's counter starts over (its lock goes too); the others (the
    client's address) only lose this attempt, so logging in to one's own account
    does not clear the failures an address ran up against other names.
    """
    table = LoginAttempt.__table__  # type: ignore[attr-defined]
    # Rows are touched in key order, as begin_attempt locks them: in any other
    # order two concurrent logins of one user deadlock each other.
    for kind, key in sorted({username, *others}):
        where = (table.c.kind == kind, table.c.key == key)
        if (kind, key) == username:
            await session.exec(delete(table).where(*where))
        else:
            await session.exec(
                update(table).where(*where).values(failures=func.greatest(table.c.failures - 1, 0))
            )
    await session.commit()

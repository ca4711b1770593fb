"""Circuit breakers: one row per breaker, each a service key of one owner or shared.

An owner's breakers count only their own runs' calls; a shared one (``owner``
NULL, addressed as ``shared:NAME``) exists only once an admin configures it.
Every worker sees the same rows, and changes them only with single atomic
statements (``worker.circuit_breakers``); an owner's breaker that never failed
and was never configured has no row (it is closed with the default config).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp, utcnow

DEFAULT_FAILURE_THRESHOLD = 5
DEFAULT_RESET_TIMEOUT = 30.0
DEFAULT_HALF_OPEN_MAX_CALLS = 1
SERVICE_MAX_LENGTH = 300
"""A node's ``circuit_breaker`` (200) or an implicit ``scheme://host:port`` (at most 267)."""


def _now_column() -> Any:
    # Workers insert rows with plain SQL: the database fills what they leave out.
    return Field(
        default_factory=utcnow,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("now()")},
    )


class BreakerState(StrEnum):
    """Where a breaker stands.

    ``closed`` lets calls through; ``open`` refuses them for ``reset_timeout``
    seconds; ``half_open`` then lets up to ``half_open_max_calls`` probes
    through, whose outcome closes or reopens it.
    """

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreakerConfig(SQLModel):
    """How a breaker trips and recovers.

    Attributes:
        failure_threshold: Consecutive failures that open the breaker.
        reset_timeout: Seconds an open breaker refuses calls before it lets probes through.
        half_open_max_calls: Probes allowed at once while half-open.
    """

    failure_threshold: int = Field(default=DEFAULT_FAILURE_THRESHOLD, ge=1, le=1_000_000)
    reset_timeout: float = Field(default=DEFAULT_RESET_TIMEOUT, gt=0, le=86_400 * 7)
    half_open_max_calls: int = Field(default=DEFAULT_HALF_OPEN_MAX_CALLS, ge=1, le=10_000)


class CircuitBreaker(SQLModel, table=True):
    """One breaker: its state, counters and config, updated in place by workers.

    Attributes:
        service: The key without the ``shared:`` prefix.
        owner: The user (id) whose runs' calls it counts, as runs carry it
            (``RunMeta.owner``); NULL for a shared breaker an admin defined.
    """

    __tablename__ = "circuit_breakers"
    __table_args__ = (
        CheckConstraint(
            "state IN ('closed', 'open', 'half_open')", name="ck_circuit_breakers_state"
        ),
        # service first: workers find a breaker by service and owner, NULL included.
        UniqueConstraint(
            "service",
            "owner",
            name="uq_circuit_breakers_service_owner",
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: uuid.UUID = Field(
        default_factory=uuid.uuid4,
        primary_key=True,
        sa_column_kwargs={"server_default": text("gen_random_uuid()")},
    )
    service: str = Field(max_length=SERVICE_MAX_LENGTH)
    owner: str | None = Field(default=None, max_length=200, nullable=True)
    state: BreakerState = Field(
        default=BreakerState.CLOSED,
        sa_type=String(16),
        sa_column_kwargs={"server_default": "closed"},
    )
    failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    opened_at: datetime | None = timestamp(nullable=True)
    half_open_calls: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    failure_threshold: int = Field(
        default=DEFAULT_FAILURE_THRESHOLD,
        sa_column_kwargs={"server_default": str(DEFAULT_FAILURE_THRESHOLD)},
    )
    reset_timeout: float = Field(
        default=DEFAULT_RESET_TIMEOUT,
        sa_column_kwargs={"server_default": str(DEFAULT_RESET_TIMEOUT)},
    )
    half_open_max_calls: int = Field(
        default=DEFAULT_HALF_OPEN_MAX_CALLS,
        sa_column_kwargs={"server_default": str(DEFAULT_HALF_OPEN_MAX_CALLS)},
    )
    created_at: datetime = _now_column()
    updated_at: datetime = _now_column()


class CircuitBreakerPublic(SQLModel):
    """A breaker's state and config.

    Attributes:
        service: Its key as a node names it: ``shared:NAME`` for a shared one.
        owner: The id of the user whose runs' calls it counts; None if shared.
        shared: Defined by an admin for every user's calls.
        state: ``half_open`` as soon as an open breaker's reset timeout has
            passed (the next call is a probe).
        failures: Consecutive failures counted since the last success.
        opened_at: When it last opened; None while it has not.
        open_until: While open, when it lets a probe through.
        half_open_calls: Probes in flight while half-open.
    """

    service: str
    owner: str | None
    shared: bool
    state: BreakerState
    failures: int
    opened_at: datetime | None
    open_until: datetime | None
    half_open_calls: int
    config: CircuitBreakerConfig
    updated_at: datetime

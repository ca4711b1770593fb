"""Failed logins counted per username and per client address, for throttling."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, String
from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp


class AttemptKind(StrEnum):
    """What a login counter is kept for."""

    USERNAME = "username"
    ADDRESS = "address"


class LoginAttempt(SQLModel, table=True):
    """The failures of one username or one client address since its last reset.

    One row per key, shared by every API process: the delay an attacker waits
    does not shrink with the number of processes behind the load balancer.

    Attributes:
        kind: ``username`` or ``address``.
        key: The username as typed (known or not), or the client's address.
        failures: Failed logins counted since the last success or quiet spell;
            an attempt counts as failed from its start until its password checks out.
        locked_until: No attempt is checked before this time (429 until then).
        updated: The last attempt; a counter left alone long enough starts over.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        CheckConstraint("kind IN ('username', 'address')", name="ck_login_attempts_kind"),
    )

    kind: AttemptKind = Field(primary_key=True, sa_type=String(16))
    key: str = Field(primary_key=True, max_length=255)
    failures: int = 0
    locked_until: datetime | None = timestamp(nullable=True)
    updated: datetime = timestamp(index=True)

"""Per-owner quota counters that every API process shares."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


class RunStartWindow(SQLModel, table=True):
    """How many runs an owner started in the current minute (a fixed window).

    One row per owner, changed only by one atomic upsert
    (:func:`app.db.crud.quotas.take_run_start`), so concurrent API processes
    never admit more starts than the limit between them.
    """

    __tablename__ = "run_start_windows"

    owner_id: uuid.UUID = Field(primary_key=True, foreign_key="users.id", ondelete="CASCADE")
    window_start: datetime = Field(sa_type=DateTime(timezone=True))
    starts: int = Field(ge=0)

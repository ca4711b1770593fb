"""Request and response bodies of the schedule routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.triggers.schedule_spec import Overlap, cron_problem, interval_problem, timezone_problem


def _checked(problem: str | None, value: str) -> str:
    if problem is not None:
        raise ValueError(problem)
    return value


class _Timing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cron: str | None = Field(default=None, max_length=200)
    interval: str | None = Field(default=None, max_length=50)
    timezone: str | None = Field(default=None, max_length=100)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else _checked(cron_problem(value), value)

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str | None) -> str | None:
        return None if value is None else _checked(interval_problem(value), value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else _checked(timezone_problem(value), value)

    @model_validator(mode="after")
    def _not_both(self) -> _Timing:
        if self.cron is not None and self.interval is not None:
            raise ValueError("give either cron or interval, not both")
        return self


class ScheduleCreate(_Timing):
    """A schedule of runs of one workflow.

    Attributes:
        cron: When to fire: 5 fields, or 6 with seconds first.
        interval: Or fire every this long (``"30s"``, ``"1h"``; at least 1s).
        timezone: The IANA time zone ``cron`` is read in.
        input: The input of every run; checked against the ``input_schema`` now.
        version: The definition version the runs use; the active one if omitted.
            It is pinned now, and re-pinned by every PATCH.
        overlap: What to do when a run is due while the previous one is still running.
    """

    timezone: str | None = Field(default="UTC", max_length=100)
    input: Any = Field(default_factory=dict)
    paused: bool = False
    overlap: Overlap = "skip"
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduleCreate:
        if self.cron is None and self.interval is None:
            raise ValueError("give cron (e.g. '*/5 * * * *') or interval (e.g. '30s')")
        return self


class ScheduleUpdate(_Timing):
    """Change a schedule; fields left out keep their value.

    Setting ``cron`` replaces an ``interval`` and the other way round. Every
    update pins the runs again, to ``version`` or to the workflow's active version.
    """

    input: Any = None
    paused: bool | None = None
    overlap: Overlap | None = None
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ScheduledRun(BaseModel):
    """A run the schedule started: when it was due, and when it started."""

    run_id: str
    scheduled_at: datetime
    started_at: datetime


class ScheduleArms(BaseModel):
    """The rollout a schedule's runs take part in: each run picks its arm as it starts."""

    candidate: int
    percent: int
    sticky_by: str | None


class SchedulePublic(BaseModel):
    """A schedule as Temporal holds it.

    Attributes:
        next_runs: When it fires next (up to 10), if it is not paused.
        recent_runs: The runs it started most recently, oldest first.
        pinned: Its ``version`` was named (so no rollout applies to it), rather
            than taken from the workflow's active version.
        rollout: The rollout its runs are shared out by, if any.
    """

    schedule_id: str
    workflow_id: str
    owner_id: str
    version: int
    cron: str | None
    interval: str | None
    timezone: str
    input: Any
    paused: bool
    overlap: Overlap
    next_runs: list[datetime]
    recent_runs: list[ScheduledRun]
    created_at: datetime | None
    updated_at: datetime | None
    pinned: bool = False
    rollout: ScheduleArms | None = None


class ScheduleTriggered(BaseModel):
    """The schedule was told to start a run now; it shows in ``recent_runs`` once started."""

    schedule_id: str
    triggered: bool = True

"""The index of runs the API started (Temporal holds their state)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp


class RunRecord(SQLModel, table=True):
    """Who started which run of which version, and with what idempotency key.

    ``run_id`` is the Temporal workflow id; ``workflow_id`` is None for a test
    run of a definition that was never saved (its owner is its starter). Runs
    started by Temporal itself (schedules) have no row; the API then reads the
    same facts from the run's search attributes.
    """

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_workflow_created", "workflow_id", "created_at"),)

    run_id: str = Field(primary_key=True, max_length=200)
    # None for a test run of a bare definition, which belongs to no workflow.
    workflow_id: uuid.UUID | None = Field(
        default=None, foreign_key="workflows.id", ondelete="CASCADE"
    )
    version: int = Field(ge=1)
    owner_id: uuid.UUID = Field(foreign_key="users.id", ondelete="RESTRICT", index=True)
    trigger: str = Field(default="api", max_length=50)
    idempotency_key: str | None = Field(default=None, max_length=200)
    # sha256 of the run input's canonical JSON, for starts with an idempotency
    # key: the same key with another input is refused. Null for runs from before.
    input_digest: str | None = Field(default=None, max_length=64)
    # The run this one reruns (a rerun, a redrive, a retry of a failed run's node).
    rerun_of: str | None = Field(default=None, max_length=200, index=True)
    # Which arm of a rollout the run is on: candidate or stable (null: no rollout).
    arm: str | None = Field(default=None, max_length=20)
    created_at: datetime = timestamp()


class RunDismissal(SQLModel, table=True):
    """A failed run an operator dismissed: the failures inbox no longer shows it."""

    __tablename__ = "run_dismissals"

    run_id: str = Field(primary_key=True, max_length=200)
    dismissed_by: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    dismissed_at: datetime = timestamp()

"""Every attempt of every activity node, written by the worker and read by the node detail API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp

MAX_ATTEMPT_ERROR_CHARS = 2000
"""The worker cuts an attempt's error message to this many characters."""


class NodeAttempt(SQLModel, table=True):
    """One attempt of one activity node (http, webhook, script, validate, log).

    The worker inserts a row as each attempt ends, with plain SQL (it does not
    import the app); no foreign key, as for webhook deliveries. An attempt the
    worker never saw end (it was killed, or the attempt ran out of its
    timeout) has no row: the node's ``error`` says what happened to it.

    Attributes:
        node_path: The node's path in the run (``loop[3].call`` inside a for_each).
        outcome: ``succeeded``, ``failed`` or ``cancelled``.
        error_type: The error's type (as in the node's ``error.type``); None if it succeeded.
    """

    __tablename__ = "node_attempts"
    __table_args__ = (Index("ix_node_attempts_run_node", "run_id", "node_id"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    run_id: str = Field(max_length=200)
    node_id: str = Field(max_length=200)
    node_path: str = Field(sa_type=Text)
    attempt: int = Field(ge=1)
    outcome: str = Field(max_length=20)
    error_type: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, max_length=MAX_ATTEMPT_ERROR_CHARS)
    started_at: datetime = timestamp()
    ended_at: datetime = timestamp()

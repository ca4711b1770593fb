"""Request and response bodies of the operator routes: signals, node retry/skip, node detail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.runs.schemas import NodeView


class SignalIn(BaseModel):
    """A payload for the ``wait_for_signal`` node(s) waiting for this signal."""

    model_config = ConfigDict(extra="forbid")

    payload: Any = None


class SignalAccepted(BaseModel):
    """The run took the signal: the node(s) waiting for it have its payload."""

    run_id: str
    signal: str
    accepted: bool = True


class NodeRetryIn(BaseModel):
    """Re-run the node the run is suspended on.

    Attributes:
        config: Keys replacing the node's config keys for this and later attempts.
    """

    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any] | None = None


class NodeSkipIn(BaseModel):
    """Skip the node the run is suspended on.

    Attributes:
        output: What downstream nodes see as the node's output.
    """

    model_config = ConfigDict(extra="forbid")

    output: Any = None


class DeliveryAttempt(BaseModel):
    """One attempt of a ``webhook`` node's delivery, as the worker recorded it.

    Attributes:
        node_path: The node's path in the run (``loop[3].notify`` inside a for_each).
        status: The HTTP status answered; None if no response came.
        error_type: Why the attempt failed; None if it was delivered.
    """

    model_config = ConfigDict(from_attributes=True)

    delivery_id: str
    node_path: str
    attempt: int
    url: str
    status: int | None
    error_type: str | None
    error: str | None
    latency_ms: float
    at: datetime


class AttemptEntry(BaseModel):
    """One ended attempt of an activity node, as the worker recorded it.

    Attributes:
        outcome: ``succeeded``, ``failed`` or ``cancelled``.
        error_type: The error's type (as ``error.type`` of a failed node); None if it succeeded.
        error: The error's message (masked like the node's; cut at 2000 characters).
    """

    model_config = ConfigDict(from_attributes=True)

    attempt: int
    outcome: str
    error_type: str | None
    error: str | None
    started_at: datetime
    ended_at: datetime


class NodeDetail(NodeView):
    """One node as the run reports it.

    ``deliveries`` lists every attempt of a ``webhook`` node, oldest first;
    it is None for other node types. ``attempt_log`` lists every attempt of an
    activity node the worker saw end, oldest first (empty for other nodes).
    """

    deliveries: list[DeliveryAttempt] | None = Field(default=None)
    attempt_log: list[AttemptEntry] = Field(default_factory=list)

"""What a run is made of: the workflow input, and the status snapshot it answers.

:class:`RunInput` is the single, versionable input of ``InterpreterWorkflow``:
fields may be added with defaults, never removed or retyped, so histories
recorded by older versions still replay.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from interpreter.definition import Definition


class RunStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"
    TIMED_OUT = "timed_out"


class NodeStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    WAITING = "waiting"


SETTLED = frozenset(
    {NodeStatus.SUCCEEDED, NodeStatus.FAILED, NodeStatus.SKIPPED, NodeStatus.CANCELLED}
)


class RunMeta(BaseModel):
    """Who and what started the run.

    Attributes:
        workflow_id: The FlowForge workflow (definition) id.
        version: The pinned definition version.
        owner: The owning user's id or name, for visibility filters.
        trigger: What started the run: ``api``, ``schedule``, ``webhook``, ``event``.
    """

    workflow_id: str = Field(max_length=200)
    version: int = Field(ge=1)
    owner: str = Field(default="", max_length=200)
    trigger: str = Field(default="api", max_length=50)


class RunOptions(BaseModel):
    """Server-side limits, fixed at start so a run never depends on worker settings.

    Attributes:
        default_max_concurrency: Used when the definition sets no ``max_concurrency``.
        max_attempts_cap: Upper bound on any node's ``retry.max_attempts``.
        max_snapshot_output_bytes: Node outputs larger than this (as JSON) are
            truncated in the status query; the full value stays usable by
            expressions.
        activity_task_queue: Task queue for activities; empty means the
            workflow's own queue.
        heartbeat_timeout_seconds: Heartbeat timeout of activity nodes.
    """

    default_max_concurrency: int = Field(default=100, ge=1)
    max_attempts_cap: int = Field(default=20, ge=1)
    max_snapshot_output_bytes: int = Field(default=16_384, ge=256)
    activity_task_queue: str = ""
    heartbeat_timeout_seconds: float = Field(default=30.0, gt=0)


class RunInput(BaseModel):
    """Input of ``InterpreterWorkflow``: the pinned definition, the run input, metadata."""

    schema_version: int = 1
    definition: Definition
    input: Any = None
    meta: RunMeta
    options: RunOptions = Field(default_factory=RunOptions)


class NodeError(BaseModel):
    type: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class NodeSnapshot(BaseModel):
    id: str
    type: str
    status: NodeStatus = NodeStatus.PENDING
    attempts: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    output: Any = None
    error: NodeError | None = None


class RunSnapshot(BaseModel):
    """The answer of the ``status`` query."""

    status: RunStatus
    paused: bool = False
    workflow_id: str
    version: int
    started_at: datetime | None = None
    ended_at: datetime | None = None
    output: Any = None
    error: NodeError | None = None
    nodes: list[NodeSnapshot] = Field(default_factory=list)

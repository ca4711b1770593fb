"""A node between two attempts, read from Temporal's pending activities.

Temporal retries an activity on its own: the workflow sees nothing until the
last attempt ends, so its status query shows a retrying node as ``running``
with no attempts. The run's description lists every pending activity with the
attempt it is on, when the next one is due and the last attempt's failure;
this module merges that into the nodes the status query reports. It reads the
server alone (no workflow code, nothing recorded in the run's history), so the
answer is the same for every run, old or new, with or without a worker.

A top-level node's activity id is its id (``Dag.path``); activities of
for_each items (``loop[3].call``) are not nodes of the run and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.exceptions import ApplicationError, TimeoutType
from temporalio.exceptions import TimeoutError as TemporalTimeout

from app.runs.schemas import NodeView
from interpreter.contract.run import NodeError, NodeSnapshot, NodeStatus

WORKER_LOST = "WorkerLost"
TIMEOUT = "Timeout"


@dataclass(frozen=True)
class PendingAttempt:
    """What Temporal says of one pending activity.

    Attributes:
        attempt: The attempt it is on (running, or due next).
        waiting: Between attempts: the previous one failed and the next is not running yet.
        last_error: The previous attempt's failure, if one failed.
        last_started_at: When the latest attempt started.
        last_ended_at: When the latest finished attempt ended.
        next_attempt_at: When the next attempt is due, while waiting.
    """

    attempt: int
    waiting: bool
    last_error: NodeError | None
    last_started_at: datetime | None
    last_ended_at: datetime | None
    next_attempt_at: datetime | None


def _time(stamp: Timestamp, present: bool) -> datetime | None:
    if not present or (stamp.seconds == 0 and stamp.nanos == 0):
        return None
    return stamp.ToDatetime(tzinfo=UTC)


def node_error(cause: BaseException) -> NodeError:
    """A failed attempt's exception as a node error, as the interpreter would report it."""
    if isinstance(cause, ApplicationError):
        details: dict[str, Any] = {}
        if cause.details and isinstance(cause.details[0], dict):
            details = {k: v for k, v in cause.details[0].items() if k != "attempt"}
        return NodeError(
            type=cause.type or "ApplicationError", message=cause.message, details=details
        )
    if isinstance(cause, TemporalTimeout):
        if cause.type == TimeoutType.HEARTBEAT:
            return NodeError(
                type=WORKER_LOST,
                message="the worker running this attempt stopped answering (no heartbeat)",
                details={"timeout": "heartbeat"},
            )
        kind = cause.type.name.lower() if cause.type is not None else "unknown"
        return NodeError(
            type=TIMEOUT,
            message=f"the attempt's {kind} timeout ran out",
            details={"timeout": kind},
        )
    return NodeError(type=type(cause).__name__, message=str(cause))


async def _pending(client: Client, info: PendingActivityInfo) -> PendingAttempt:
    error = None
    if info.HasField("last_failure"):
        error = node_error(await client.data_converter.decode_failure(info.last_failure))
    scheduled = info.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
    waiting = scheduled and info.attempt > 1
    return PendingAttempt(
        attempt=info.attempt,
        waiting=waiting,
        last_error=error,
        last_started_at=_time(info.last_started_time, info.HasField("last_started_time")),
        last_ended_at=_time(
            info.last_attempt_complete_time, info.HasField("last_attempt_complete_time")
        ),
        next_attempt_at=_time(
            info.next_attempt_schedule_time, info.HasField("next_attempt_schedule_time")
        )
        if waiting
        else None,
    )


async def pending_attempts(
    client: Client, description: WorkflowExecutionDescription
) -> dict[str, PendingAttempt]:
    """The run's pending activities by activity id (a top-level node's id)."""
    found: dict[str, PendingAttempt] = {}
    for info in description.raw_description.pending_activities:
        found[info.activity_id] = await _pending(client, info)
    return found


def with_attempts(nodes: list[NodeSnapshot], pending: dict[str, PendingAttempt]) -> list[NodeView]:
    """The nodes as the API shows them: a node between attempts is ``retrying``.

    A running node whose activity failed an attempt gets ``attempts`` (the
    attempts begun so far: the one running counts) and ``last_error``; while it
    waits for the next attempt its status is ``retrying`` and ``next_attempt_at``
    says when that attempt is due. Every other node is shown as reported.
    """
    shown = []
    for node in nodes:
        view = NodeView.model_validate(node.model_dump())
        found = pending.get(node.id)
        if found is not None and node.status == NodeStatus.RUNNING and found.attempt > 1:
            view.last_error = found.last_error
            if found.waiting:
                view.status = NodeStatus.RETRYING
                view.attempts = found.attempt - 1
                view.next_attempt_at = found.next_attempt_at
            else:
                view.attempts = found.attempt
        shown.append(view)
    return shown


def node_counts(nodes: list[NodeSnapshot] | list[NodeView]) -> dict[str, int]:
    """How many nodes are in each status; every status is a key (0 if none)."""
    counts = dict.fromkeys((status.value for status in NodeStatus), 0)
    for node in nodes:
        counts[node.status.value] += 1
    return counts


def counts_from_stats(stats: Any) -> dict[str, int] | None:
    """:func:`node_counts` from the node stats a finished run leaves in its memo (None: none)."""
    if not isinstance(stats, dict):
        return None
    counts = dict.fromkeys((status.value for status in NodeStatus), 0)
    for entry in stats.values():
        status = entry.get("s") if isinstance(entry, dict) else None
        if status in counts:
            counts[status] += 1
    return counts

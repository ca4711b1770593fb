"""Turning what Temporal reports about an activity into a node error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
    TimeoutType,
)
from temporalio.exceptions import (
    CancelledError as TemporalCancelled,
)
from temporalio.exceptions import (
    TimeoutError as TemporalTimeout,
)

from interpreter.contract.run import NodeError

WORKER_LOST = "WorkerLost"
"""The error type of a node whose worker stopped heartbeating (killed, frozen, cut off)."""

TIMEOUT = "Timeout"
"""The error type of a node that ran out of one of its own timeouts."""


@dataclass(frozen=True)
class ActivityTimeouts:
    """The timeouts an activity node was scheduled with, which its timeout errors name.

    Attributes:
        start_to_close: One attempt's limit (the node's ``timeout``).
        heartbeat: How long the worker may stay silent before it counts as lost.
        schedule_to_close: The limit over all attempts (``total_timeout``), if any.
        schedule_to_start: How long the node may wait for a worker, if limited.
    """

    start_to_close: timedelta
    heartbeat: timedelta
    schedule_to_close: timedelta | None = None
    schedule_to_start: timedelta | None = None


def is_cancellation(error: ActivityError) -> bool:
    """Whether the activity ended because it was cancelled rather than because it failed."""
    return isinstance(error.cause, TemporalCancelled)


def activity_failure(
    error: ActivityError,
    max_attempts: int,
    timeouts: ActivityTimeouts | None = None,
    retry_state: RetryState | None = None,
) -> tuple[NodeError, int]:
    """The node error and the number of attempts made.

    Args:
        error: What Temporal raised once the node's attempts were over.
        max_attempts: The node's effective ``retry.max_attempts``.
        timeouts: The node's timeouts: a timeout becomes :func:`timeout_error`.
            None keeps the terse ``Timeout`` of runs recorded before it existed.
        retry_state: Why no attempt followed, when the workflow made the
            attempts (a local activity node); else Temporal's ``error.retry_state``.

    Returns:
        The node's error and its attempt count.
    """
    cause = error.cause
    state = retry_state if retry_state is not None else error.retry_state
    details: dict[str, Any] = {}
    if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
        details = dict(cause.details[0])
    attempt = details.pop("attempt", None)
    if isinstance(cause, ApplicationError):
        node_error = NodeError(
            type=cause.type or "ApplicationError", message=cause.message, details=details
        )
    elif isinstance(cause, TemporalTimeout) and timeouts is not None:
        node_error = timeout_error(cause.type, state, max_attempts, timeouts)
    elif isinstance(cause, TemporalTimeout):
        kind = cause.type.name.lower() if cause.type is not None else "unknown"
        node_error = NodeError(type=TIMEOUT, message=f"activity {kind} timeout exceeded")
    else:
        node_error = NodeError(type=type(cause).__name__, message=str(cause or error))
    if not isinstance(attempt, int):
        attempt = max_attempts if state == RetryState.MAXIMUM_ATTEMPTS_REACHED else 1
    return node_error, attempt


def timeout_error(
    kind: TimeoutType | None,
    retry_state: RetryState | None,
    max_attempts: int,
    timeouts: ActivityTimeouts,
) -> NodeError:
    """The error of a node whose last attempt ended by one of Temporal's timeouts.

    A lost worker (no heartbeat) is ``WorkerLost``, not a timeout of the node's
    call: the call itself may have been fine. The message says which limit
    ran out, how long it was, and why no further attempt followed.
    """
    error_type = TIMEOUT
    if kind == TimeoutType.HEARTBEAT:
        error_type, limit = WORKER_LOST, timeouts.heartbeat
        message = (
            f"the worker running this node stopped answering (no heartbeat for "
            f"{_seconds(limit)}: it was killed, froze or lost its connection)"
        )
    elif kind == TimeoutType.START_TO_CLOSE:
        limit = timeouts.start_to_close
        message = f"the node's attempt took longer than its timeout ({_seconds(limit)})"
    elif kind == TimeoutType.SCHEDULE_TO_START:
        waited = timeouts.schedule_to_start or timeouts.schedule_to_close
        within = f"within {_seconds(waited)}" if waited else "in time"
        message = f"no worker picked up the node {within}: is a worker polling its task queue?"
        details = _details(kind, waited) if waited else {"timeout": "schedule_to_start"}
        return NodeError(type=TIMEOUT, message=message, details=details)
    elif kind == TimeoutType.SCHEDULE_TO_CLOSE and timeouts.schedule_to_close is not None:
        limit = timeouts.schedule_to_close
        message = f"the node ran past its total_timeout ({_seconds(limit)}) over all its attempts"
        return NodeError(type=TIMEOUT, message=message, details=_details(kind, limit))
    else:
        name = kind.name.lower() if kind is not None else "unknown"
        return NodeError(type=TIMEOUT, message=f"the node's {name} timeout ran out")
    ending = _why_not_retried(retry_state, max_attempts, timeouts.schedule_to_close)
    return NodeError(
        type=error_type,
        message=f"{message}; {ending}" if ending else message,
        details=_details(kind, limit),
    )


def _why_not_retried(
    retry_state: RetryState | None, max_attempts: int, total: timedelta | None
) -> str | None:
    if retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED:
        return (
            f"that was its last attempt (retry.max_attempts: {max_attempts}), so it was not retried"
        )
    if retry_state == RetryState.TIMEOUT and total is not None:
        return f"its total_timeout ({_seconds(total)}) left no time to retry it"
    return None


def _details(kind: TimeoutType, limit: timedelta) -> dict[str, Any]:
    return {"timeout": kind.name.lower(), "timeout_seconds": limit.total_seconds()}


def _seconds(limit: timedelta) -> str:
    return f"{limit.total_seconds():g}s"

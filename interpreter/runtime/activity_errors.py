"""Turning what Temporal reports about an activity into a node error."""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
)
from temporalio.exceptions import (
    CancelledError as TemporalCancelled,
)
from temporalio.exceptions import (
    TimeoutError as TemporalTimeout,
)

from interpreter.contract.run import NodeError


def is_cancellation(error: ActivityError) -> bool:
    """Whether the activity ended because it was cancelled rather than because it failed."""
    return isinstance(error.cause, TemporalCancelled)


def activity_failure(error: ActivityError, max_attempts: int) -> tuple[NodeError, int]:
    """The node error and the number of attempts made."""
    cause = error.cause
    details: dict[str, Any] = {}
    if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
        details = dict(cause.details[0])
    attempt = details.pop("attempt", None)
    if isinstance(cause, ApplicationError):
        node_error = NodeError(
            type=cause.type or "ApplicationError", message=cause.message, details=details
        )
    elif isinstance(cause, TemporalTimeout):
        kind = cause.type.name.lower() if cause.type is not None else "unknown"
        node_error = NodeError(type="Timeout", message=f"activity {kind} timeout exceeded")
    else:
        node_error = NodeError(type=type(cause).__name__, message=str(cause or error))
    if not isinstance(attempt, int):
        attempt = max_attempts if error.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED else 1
    return node_error, attempt

"""Why a run makes no progress: its workflow task failing, as Temporal records it.

A workflow task that fails (a payload over Temporal's limit, a bug, a
non-determinism) is retried by Temporal forever; the run shows ``running``
but no worker can answer its queries. Temporal's description says the task
is on a later attempt, and the run's history keeps the first failure's cause
and message: that is what the API reports, instead of blaming the workers.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryReverseRequest
from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.service import RPCError

from app.errors import ApiError
from interpreter.contract.run import NodeError

logger = logging.getLogger(__name__)

_TASK_EVENTS = (
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
)
_PAGE = 100
"""Newest history events read to find the last workflow task outcome."""


class TaskFailure(BaseModel):
    """A run's workflow task failing on every attempt.

    Attributes:
        cause: Temporal's cause (``PAYLOADS_TOO_LARGE``, ``WORKFLOW_WORKER_UNHANDLED_FAILURE``,
            ``NON_DETERMINISTIC_ERROR``...), or ``TIMED_OUT`` when the task timed out.
        message: The failure's message as the worker reported it.
        attempts: The attempt Temporal is on (attempts so far, the pending one included).
    """

    cause: str
    message: str
    attempts: int


async def task_failure(
    client: Client, description: WorkflowExecutionDescription, rpc_timeout: timedelta
) -> TaskFailure | None:
    """The failure the run's workflow task keeps failing with; None if it does not fail."""
    raw = description.raw_description
    if not raw.HasField("pending_workflow_task") or raw.pending_workflow_task.attempt < 2:
        return None
    attempts = raw.pending_workflow_task.attempt
    request = GetWorkflowExecutionHistoryReverseRequest(
        namespace=client.namespace,
        execution=raw.workflow_execution_info.execution,
        maximum_page_size=_PAGE,
    )
    try:
        response = await client.workflow_service.get_workflow_execution_history_reverse(
            request, timeout=rpc_timeout
        )
    except RPCError as exc:
        logger.warning("history of run %s unreadable: %s", description.id, exc)
        return TaskFailure(cause="UNKNOWN", message=str(exc), attempts=attempts)
    for event in response.history.events:
        if event.event_type not in _TASK_EVENTS:
            continue
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failed = event.workflow_task_failed_event_attributes
            cause = WorkflowTaskFailedCause.Name(failed.cause).removeprefix(
                "WORKFLOW_TASK_FAILED_CAUSE_"
            )
            message = await _message(client, failed)
            return TaskFailure(cause=cause, message=message, attempts=attempts)
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
            return TaskFailure(
                cause="TIMED_OUT",
                message="the workflow task timed out (a worker took it and did not answer)",
                attempts=attempts,
            )
        break
    return TaskFailure(
        cause="UNKNOWN", message="the workflow task fails; see the run's history", attempts=attempts
    )


async def _message(client: Client, failed: object) -> str:
    failure = getattr(failed, "failure", None)
    if failure is None:
        return ""
    try:
        error = await client.data_converter.decode_failure(failure)
    except Exception as exc:  # a failure sealed under another key still has its cause
        logger.warning("a workflow task failure does not decode: %s", exc)
        return str(failure.message)
    return str(error)


def describe_failure(run_id: str, failure: TaskFailure) -> str:
    """One sentence for errors and run details: the run, the cause, the message."""
    return (
        f"run {run_id} makes no progress: its workflow task failed {failure.attempts - 1} "
        f"time(s), cause {failure.cause}: {failure.message}"
    )


async def no_answer(
    client: Client,
    description: WorkflowExecutionDescription,
    rpc_timeout: timedelta,
    task_queue: str,
    what: str,
) -> ApiError:
    """The error when the run's worker did not answer ``what`` (a query).

    409 naming Temporal's cause when the run's workflow task keeps failing
    (asking again will not help), else 503: no worker polls the task queue.
    """
    run_id = description.id
    failure = await task_failure(client, description, rpc_timeout)
    if failure is not None:
        return ApiError(409, describe_failure(run_id, failure))
    return ApiError(
        503,
        f"no worker answered the {what} of run {run_id}; "
        f"check that a worker polls task queue {task_queue!r} and retry",
    )


def stalled_error(run_id: str, failure: TaskFailure | None) -> NodeError | None:
    """The ``error`` a run view shows for a run whose workflow task keeps failing."""
    if failure is None:
        return None
    return NodeError(
        type="WorkflowTaskFailed",
        message=describe_failure(run_id, failure),
        details=failure.model_dump(),
    )

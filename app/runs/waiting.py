"""Waiting for a run's end inside one request (``?wait=`` on a start or an output read).

A REST client that needs a run's result would otherwise poll: each poll is an
authenticated request and a describe, and the answer arrives up to a poll
interval late. Waiting instead is one long poll of the run's history on the
Temporal server (what ``WorkflowHandle.result`` does), which returns as soon
as the run closes and costs the API nothing while it waits.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError, CancelledError, TerminatedError
from temporalio.exceptions import TimeoutError as TemporalTimeout

from app.errors import ApiError, ErrorItem
from app.runs.ended import ended_error
from app.settings import Settings
from interpreter.contract.run import NodeError, RunStatus


@dataclass(frozen=True)
class Ended:
    """How a run ended: succeeded with ``output``, or ``status`` with ``error``."""

    status: RunStatus
    output: Any = None
    error: NodeError | None = None


def wait_seconds(wait: float | None, settings: Settings) -> float:
    """``wait`` checked against ``FLOWFORGE_RUN_WAIT_MAX_SECONDS``; 0 when not given.

    Raises:
        ApiError: 422 at ``/query/wait`` for a negative wait or one over the limit.
    """
    if wait is None:
        return 0.0
    limit = settings.run_wait_max_seconds
    if wait < 0 or wait > limit:
        message = f"wait must be between 0 and {limit:g} seconds (FLOWFORGE_RUN_WAIT_MAX_SECONDS)"
        raise ApiError(
            422,
            message,
            errors=[ErrorItem(path="/query/wait", code="out_of_range", message=message)],
        )
    return wait


def _failure(exc: WorkflowFailureError) -> Ended:
    cause = exc.cause
    if isinstance(cause, CancelledError):
        return Ended(RunStatus.CANCELLED, error=NodeError(type="RunCancelled", message=str(cause)))
    if isinstance(cause, TerminatedError):
        return Ended(RunStatus.TERMINATED, error=ended_error(RunStatus.TERMINATED, None))
    if isinstance(cause, TemporalTimeout):
        return Ended(RunStatus.TIMED_OUT, error=ended_error(RunStatus.TIMED_OUT, None))
    if isinstance(cause, ApplicationError):
        # A run fails with its error as the first detail (interpreter.runtime.workflow).
        details = cause.details
        try:
            error = NodeError.model_validate(details[0])
        except (IndexError, ValueError):
            error = NodeError(type=cause.type or "Error", message=cause.message)
        return Ended(RunStatus.FAILED, error=error)
    kind = type(cause).__name__ if cause is not None else "Error"
    return Ended(RunStatus.FAILED, error=NodeError(type=kind, message=str(cause or exc)))


async def wait_for_end(
    client: Client, run_id: str, seconds: float, rpc_timeout: timedelta
) -> Ended | None:
    """The end of run ``run_id`` if it comes within ``seconds``; None if it is still open then.

    Follows the run across continue-as-new, so a long run's end is its last
    execution's. ``rpc_timeout`` bounds each long poll as Temporal's client
    makes them; ``seconds`` bounds the whole wait.
    """
    handle = client.get_workflow_handle(run_id)
    try:
        async with asyncio.timeout(seconds):
            output = await handle.result(
                follow_runs=True, rpc_timeout=max(rpc_timeout, timedelta(seconds=seconds))
            )
    except TimeoutError:
        return None
    except WorkflowFailureError as exc:
        return _failure(exc)
    return Ended(RunStatus.SUCCEEDED, output=output)

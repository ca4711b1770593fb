"""Sending an operator update (signal, node retry, node skip) to a live run.

The interpreter checks each update in a validator before anything is
recorded, so a refusal leaves the run exactly as it was; its message is
passed on to the caller as the error's ``detail``.
"""

from __future__ import annotations

from typing import TypeVar, cast

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from app.core.state import AppState
from app.db.models.user import User
from app.errors import ApiError
from app.runs.access import visible_run
from app.runs.status import is_open, run_status
from interpreter.contract import search_attributes as sa

T = TypeVar("T")


def _finished(run_id: str, status: str, what: str) -> ApiError:
    return ApiError(409, f"run {run_id} is {status}: a finished run takes no {what}")


def _refusal(error: WorkflowUpdateFailedError) -> str:
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or error)


async def send_update(
    client: Client,
    state: AppState,
    run_id: str,
    user: User,
    *,
    update: str,
    argument: BaseModel,
    result_type: type[T],
    what: str,
    refused_status: int,
) -> T:
    """Run ``update`` with ``argument`` on the run and return its result.

    Args:
        client: The API's Temporal client.
        state: This process's settings and Temporal timeouts.
        run_id: The run to update.
        user: The caller; the run must be theirs, or they an admin.
        update: The interpreter's update name (see ``interpreter.contract.client``).
        argument: The update's argument, as the interpreter's model of it.
        result_type: What the update returns, for the data converter.
        what: Names the update in error messages (``signal 'approval'``).
        refused_status: The HTTP status of a refusal by the run's validator.

    Raises:
        ApiError: 404 for a run the user may not see; 409 for a finished run;
            ``refused_status`` with the run's reason when it refuses; 503
            when no worker answers in time.
    """
    description = await visible_run(client, state, run_id, user)
    current = run_status(description.status, description.typed_search_attributes.get(sa.STATUS))
    if not is_open(current):
        raise _finished(run_id, current, what)
    handle = client.get_workflow_handle(run_id)
    try:
        result = await handle.execute_update(
            update, argument, result_type=result_type, rpc_timeout=state.temporal.rpc_timeout
        )
    except WorkflowUpdateFailedError as exc:
        raise ApiError(
            refused_status, f"run {run_id} refused the {what}: {_refusal(exc)}"
        ) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise ApiError(
            503,
            f"no worker took the {what} for run {run_id} within "
            f"{state.temporal.rpc_timeout.total_seconds():g}s; check that a worker "
            f"polls task queue {state.settings.task_queue!r} and retry",
        ) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # it finished in the meantime
            raise _finished(run_id, "finished", what) from None
        raise
    # The SDK converts the result to ``result_type`` but types it as Any.
    return cast(T, result)

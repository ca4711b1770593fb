"""Starting a redrive batch, and reading what it has done.

A batch's workflow id names its owner (:func:`batch_workflow_id`), so a
user only ever reaches their own batches: someone else's batch id is a 404.
"""

from __future__ import annotations

import asyncio
import uuid

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from app.core.state import AppState
from app.db.models.common import utcnow
from app.db.models.user import User
from app.errors import ApiError, ErrorItem
from app.runs.launch import IdempotencyKeyReused
from app.runs.redrive import RedriveVersion
from app.runs.redrive_activity import sign_batch
from app.runs.redrive_schemas import (
    BATCH_WORKFLOW,
    PROGRESS_QUERY,
    RedriveBatch,
    RedriveProgress,
    batch_workflow_id,
)


def new_batch_id(idempotency_key: str | None) -> str:
    """A fresh batch id, or the one an ``Idempotency-Key`` always names."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    return uuid.uuid5(uuid.NAMESPACE_URL, f"flowforge-redrive:{idempotency_key}").hex


async def start_batch(
    *,
    client: Client,
    state: AppState,
    user: User,
    batch_id: str,
    run_ids: list[str],
    version: RedriveVersion,
    request_digest: str,
) -> WorkflowHandle[object, RedriveProgress]:
    """Start (or, for a batch id already used, find) ``user``'s batch redriving ``run_ids``.

    Raises:
        IdempotencyKeyReused: the batch id (its ``Idempotency-Key``) already
            started a batch for another request (``request_digest``).
    """
    settings = state.settings
    workflow_id = batch_workflow_id(str(user.id), batch_id)
    batch = RedriveBatch(
        batch_id=batch_id,
        workflow_id=workflow_id,
        owner_id=str(user.id),
        run_ids=run_ids,
        version=version,
        issued_at=utcnow(),
        concurrency=settings.redrive_concurrency,
        attempts=settings.redrive_attempts,
        run_timeout=settings.redrive_run_timeout,
        request_digest=request_digest,
    )
    handle = client.get_workflow_handle(workflow_id, result_type=RedriveProgress)
    try:
        await client.start_workflow(
            BATCH_WORKFLOW,
            sign_batch(batch, settings.run_keys()),
            id=workflow_id,
            task_queue=settings.api_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            rpc_timeout=state.temporal.rpc_timeout,
        )
    except WorkflowAlreadyStartedError:
        # The same Idempotency-Key again: the batch it started answers, if for this request.
        started = await _started_input(client, handle)
        if started is not None and started.request_digest != request_digest:
            raise IdempotencyKeyReused(
                422,
                f"this Idempotency-Key already started redrive batch {batch_id} with another "
                "request: send that request again to follow it, or use a new key",
                errors=[
                    ErrorItem(
                        path="/header/idempotency-key",
                        code="idempotency_key_reused",
                        message=f"used for batch {batch_id} with another request",
                    )
                ],
            ) from None
    return handle


async def _started_input(
    client: Client, handle: WorkflowHandle[object, RedriveProgress]
) -> RedriveBatch | None:
    """The batch a workflow started with (the input of its first event)."""
    async for event in handle.fetch_history_events():
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        decoded = await client.data_converter.decode(payloads, [RedriveBatch])
        batch = decoded[0] if decoded else None
        return batch if isinstance(batch, RedriveBatch) else None
    return None


async def wait_for_batch(
    handle: WorkflowHandle[object, RedriveProgress], state: AppState, batch_id: str, total: int
) -> RedriveProgress:
    """The batch's result if it ends in ``FLOWFORGE_REDRIVE_WAIT_SECONDS``, else its progress.

    ``total`` is what the batch selected, shown while no API worker has picked it up yet.
    """
    seconds = state.settings.redrive_wait_seconds
    try:
        return await asyncio.wait_for(_result(handle, batch_id), timeout=seconds)
    except TimeoutError:
        return await _so_far(handle, state, batch_id, total)


async def batch_progress(
    *, client: Client, state: AppState, user: User, batch_id: str
) -> RedriveProgress:
    """``user``'s batch ``batch_id``: its result, or what it has done so far.

    Raises:
        ApiError: 404 when ``user`` has no batch ``batch_id``.
    """
    handle = client.get_workflow_handle(
        batch_workflow_id(str(user.id), batch_id), result_type=RedriveProgress
    )
    try:
        description = await handle.describe(rpc_timeout=state.temporal.rpc_timeout)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        description = None
    if description is None or description.workflow_type != BATCH_WORKFLOW:
        raise ApiError(404, f"no redrive batch {batch_id!r} of yours")
    if description.status == WorkflowExecutionStatus.RUNNING:
        return await _so_far(handle, state, batch_id)
    return await _result(handle, batch_id)


async def _result(
    handle: WorkflowHandle[object, RedriveProgress], batch_id: str
) -> RedriveProgress:
    try:
        return await handle.result()
    except WorkflowFailureError as exc:
        cause = exc.cause
        error = cause.message if isinstance(cause, FailureError) else str(exc)
        return RedriveProgress(batch_id=batch_id, status="failed", total=0, error=error)


async def _so_far(
    handle: WorkflowHandle[object, RedriveProgress],
    state: AppState,
    batch_id: str,
    total: int = 0,
) -> RedriveProgress:
    try:
        progress: RedriveProgress = await handle.query(
            PROGRESS_QUERY, result_type=RedriveProgress, rpc_timeout=state.temporal.query_timeout
        )
    except (WorkflowQueryFailedError, RPCError):
        # Not picked up by an API worker yet: nothing is done.
        return RedriveProgress(batch_id=batch_id, status="running", total=total)
    return progress

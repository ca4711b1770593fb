"""Pause, resume, cancel and terminate: which run status allows which, and carrying them out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from app.core.state import AppState
from app.db.models.user import User
from app.errors import ApiError
from app.runs.access import visible_run
from app.runs.reading import snapshot
from app.runs.schemas import RunAction
from app.runs.status import is_open, run_status
from app.runs.task_failure import describe_failure, task_failure
from interpreter.contract import search_attributes as sa
from interpreter.contract.run import RunStatus

Action = Callable[[WorkflowHandle[Any, Any]], Awaitable[None]]
"""What an action does to the run's Temporal handle (signal, cancel, terminate)."""


@dataclass(frozen=True)
class Rule:
    """Which statuses an action fits, and the status it leads to.

    ``ask_run``: decide on the status the run itself reports (only the run
    knows whether it is paused), not just Temporal's open/closed.
    """

    allowed: frozenset[RunStatus]
    verb: str
    result: RunStatus
    ask_run: bool = False


_ACTIVE = frozenset({RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.SUSPENDED})
PAUSE = Rule(frozenset({RunStatus.RUNNING, RunStatus.SUSPENDED}), "paused", RunStatus.PAUSED, True)
RESUME = Rule(frozenset({RunStatus.PAUSED}), "resumed", RunStatus.RUNNING, True)
CANCEL = Rule(_ACTIVE, "cancelled", RunStatus.CANCELLED)
TERMINATE = Rule(_ACTIVE, "terminated", RunStatus.TERMINATED)


async def _current_status(
    client: Client, state: AppState, run_id: str, user: User, *, ask_run: bool
) -> RunStatus:
    """The run's status; with ``ask_run``, as an open run reports it (paused or not).

    Without a worker to answer the query, the status the run last recorded in
    its search attributes is used; signals wait in Temporal until a worker runs.
    """
    description = await visible_run(client, state, run_id, user)
    current = run_status(description.status, description.typed_search_attributes.get(sa.STATUS))
    if ask_run and is_open(current):
        snap = await snapshot(client.get_workflow_handle(run_id), state.temporal.query_timeout)
        if snap is not None:
            current = run_status(description.status, snap.status.value)
        else:
            # A signal to a run whose task fails would be accepted and never acted on.
            failure = await task_failure(client, description, state.temporal.rpc_timeout)
            if failure is not None:
                raise ApiError(
                    409,
                    f"{describe_failure(run_id, failure)}; it can only be cancelled or terminated",
                )
    return current


async def act(
    client: Client, state: AppState, run_id: str, user: User, rule: Rule, action: Action
) -> RunAction:
    """Carry out ``action`` on the run if its status allows ``rule``.

    Raises:
        ApiError: 404 for a run that is not the caller's, 409 when its status
            does not allow the action or it finished before the action arrived.
    """
    current = await _current_status(client, state, run_id, user, ask_run=rule.ask_run)
    if current not in rule.allowed:
        allowed = " or ".join(sorted(rule.allowed))
        raise ApiError(409, f"run {run_id} is {current}: only a {allowed} run can be {rule.verb}")
    try:
        await action(client.get_workflow_handle(run_id))
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # it finished in the meantime
            raise ApiError(
                409, f"run {run_id} has finished: it can no longer be {rule.verb}"
            ) from None
        raise
    return RunAction(run_id=run_id, status=rule.result)


POLL_SECONDS = 0.2
"""How often a cancel looks whether the run has ended."""


async def cancel_run(client: Client, state: AppState, run_id: str, user: User) -> RunAction:
    """Cancel the run, and make sure the cancel takes effect.

    The run is asked to cancel, then watched for ``cancel_grace_seconds``: if
    it ends, its final status is the answer. If its workflow task is still
    failing at the end of the grace period, the run could never act on the
    cancel: it is terminated, with the failure as the reason. A healthy run
    that is still stopping (its nodes cleaning up) answers ``cancelled``.

    Raises:
        ApiError: as :func:`act`.
    """
    timeout = state.temporal.rpc_timeout
    result = await act(client, state, run_id, user, CANCEL, lambda h: h.cancel(rpc_timeout=timeout))
    handle = client.get_workflow_handle(run_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + state.settings.cancel_grace_seconds
    while True:
        description = await handle.describe(rpc_timeout=timeout)
        if description.status != WorkflowExecutionStatus.RUNNING:
            return RunAction(run_id=run_id, status=run_status(description.status, None))
        if loop.time() >= deadline:
            break
        await asyncio.sleep(POLL_SECONDS)
    failure = await task_failure(client, description, timeout)
    if failure is None:
        return result
    reason = (
        f"cancelled by {user.username} through the API; the run could not act on it: "
        f"{describe_failure(run_id, failure)}"
    )
    try:
        await handle.terminate(reason=reason, rpc_timeout=timeout)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:  # not: it ended in the meantime
            raise
    return RunAction(run_id=run_id, status=RunStatus.TERMINATED)

"""Controlling a run: pause, resume, cancel, terminate.

Each answers 202 with the status the run is moving to, or 409 when the run's
current status does not allow the action.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, status
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from app.api.deps import EditorUser, RunId, StateDep, TemporalDep
from app.core.state import AppState
from app.db.models.user import User
from app.errors import ApiError
from app.runs.access import visible_run
from app.runs.reading import snapshot
from app.runs.schemas import RunAction
from app.runs.status import is_open, run_status
from interpreter.contract import search_attributes as sa
from interpreter.contract.client import PAUSE_SIGNAL, RESUME_SIGNAL
from interpreter.contract.run import RunStatus

router = APIRouter(prefix="/runs/{run_id}", tags=["runs"])

Action = Callable[[WorkflowHandle[Any, Any]], Awaitable[None]]


@dataclass(frozen=True)
class _Rule:
    """Which statuses an action fits, and the status it leads to.

    ``ask_run``: decide on the status the run itself reports (only the run
    knows whether it is paused), not just Temporal's open/closed.
    """

    allowed: frozenset[RunStatus]
    verb: str
    result: RunStatus
    ask_run: bool = False


_ACTIVE = frozenset({RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.SUSPENDED})
PAUSE = _Rule(frozenset({RunStatus.RUNNING, RunStatus.SUSPENDED}), "paused", RunStatus.PAUSED, True)
RESUME = _Rule(frozenset({RunStatus.PAUSED}), "resumed", RunStatus.RUNNING, True)
CANCEL = _Rule(_ACTIVE, "cancelled", RunStatus.CANCELLED)
TERMINATE = _Rule(_ACTIVE, "terminated", RunStatus.TERMINATED)


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
    return current


async def _act(
    client: Client, state: AppState, run_id: str, user: User, rule: _Rule, action: Action
) -> RunAction:
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


@router.post("/pause", status_code=status.HTTP_202_ACCEPTED)
async def pause(
    run_id: RunId, user: EditorUser, state: StateDep, temporal: TemporalDep
) -> RunAction:
    """Stop starting new nodes; running ones finish. Queries keep working."""
    timeout = state.temporal.rpc_timeout
    return await _act(
        temporal, state, run_id, user, PAUSE, lambda h: h.signal(PAUSE_SIGNAL, rpc_timeout=timeout)
    )


@router.post("/resume", status_code=status.HTTP_202_ACCEPTED)
async def resume(
    run_id: RunId, user: EditorUser, state: StateDep, temporal: TemporalDep
) -> RunAction:
    """Start scheduling nodes again."""
    timeout = state.temporal.rpc_timeout
    return await _act(
        temporal,
        state,
        run_id,
        user,
        RESUME,
        lambda h: h.signal(RESUME_SIGNAL, rpc_timeout=timeout),
    )


@router.post("/cancel", status_code=status.HTTP_202_ACCEPTED)
async def cancel(
    run_id: RunId, user: EditorUser, state: StateDep, temporal: TemporalDep
) -> RunAction:
    """Cancel running nodes (they see it through heartbeats) and end the run as cancelled."""
    timeout = state.temporal.rpc_timeout
    return await _act(
        temporal, state, run_id, user, CANCEL, lambda h: h.cancel(rpc_timeout=timeout)
    )


@router.post("/terminate", status_code=status.HTTP_202_ACCEPTED)
async def terminate(
    run_id: RunId, user: EditorUser, state: StateDep, temporal: TemporalDep
) -> RunAction:
    """End the run at once, without letting it clean up."""
    timeout = state.temporal.rpc_timeout
    reason = f"terminated by {user.username} through the API"
    return await _act(
        temporal,
        state,
        run_id,
        user,
        TERMINATE,
        lambda h: h.terminate(reason=reason, rpc_timeout=timeout),
    )

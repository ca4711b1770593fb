"""Pause, resume, cancel and terminate: which run status allows which, and carrying them out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from app.core.state import AppState
from app.db.models.user import User
from app.errors import ApiError
from app.runs.access import visible_run
from app.runs.reading import snapshot
from app.runs.schemas import RunAction
from app.runs.status import is_open, run_status
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

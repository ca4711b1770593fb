"""Controlling a run: pause, resume, cancel, terminate.

Each answers 202 with the status the run is moving to, or 409 when the run's
current status does not allow the action (or, for pause and resume, when the
run's workflow task keeps failing, so it could never act on them).
"""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import EditorUser, RunId, StateDep, TemporalDep
from app.runs.lifecycle import PAUSE, RESUME, TERMINATE, act, cancel_run
from app.runs.schemas import RunAction
from interpreter.contract.client import PAUSE_SIGNAL, RESUME_SIGNAL

router = APIRouter(prefix="/runs/{run_id}", tags=["runs"])


@router.post("/pause", status_code=status.HTTP_202_ACCEPTED)
async def pause(
    run_id: RunId, user: EditorUser, state: StateDep, temporal: TemporalDep
) -> RunAction:
    """Stop starting new nodes; running ones finish. Queries keep working."""
    timeout = state.temporal.rpc_timeout
    return await act(
        temporal, state, run_id, user, PAUSE, lambda h: h.signal(PAUSE_SIGNAL, rpc_timeout=timeout)
    )


@router.post("/resume", status_code=status.HTTP_202_ACCEPTED)
async def resume(
    run_id: RunId, user: EditorUser, state: StateDep, temporal: TemporalDep
) -> RunAction:
    """Start scheduling nodes again."""
    timeout = state.temporal.rpc_timeout
    return await act(
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
    """Cancel running nodes (they see it through heartbeats) and end the run as cancelled.

    The answer comes once the run has ended, or after ``FLOWFORGE_CANCEL_GRACE_SECONDS``
    at most: ``status`` is how it ended (``terminated`` for a run whose workflow task
    kept failing, so it could not act on the cancel), or ``cancelled`` for a run still
    stopping its nodes.
    """
    return await cancel_run(temporal, state, run_id, user)


@router.post("/terminate", status_code=status.HTTP_202_ACCEPTED)
async def terminate(
    run_id: RunId, user: EditorUser, state: StateDep, temporal: TemporalDep
) -> RunAction:
    """End the run at once, without letting it clean up."""
    timeout = state.temporal.rpc_timeout
    reason = f"terminated by {user.username} through the API"
    return await act(
        temporal,
        state,
        run_id,
        user,
        TERMINATE,
        lambda h: h.terminate(reason=reason, rpc_timeout=timeout),
    )

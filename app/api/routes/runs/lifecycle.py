"""Controlling a run: pause, resume, cancel, terminate.

Each answers 202 with the status the run is moving to, or 409 when the run's
current status does not allow the action.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import EditorUser, RunId, StateDep, TemporalDep
from app.runs.lifecycle import CANCEL, PAUSE, RESUME, TERMINATE, act
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
    """Cancel running nodes (they see it through heartbeats) and end the run as cancelled."""
    timeout = state.temporal.rpc_timeout
    return await act(temporal, state, run_id, user, CANCEL, lambda h: h.cancel(rpc_timeout=timeout))


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

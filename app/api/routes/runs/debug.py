"""Stepping through a run: breakpoints, what the next node will see, one step at a time.

A run started with ``breakpoints`` (or given them live) pauses before each of
those nodes; ``GET /runs/{id}/scope`` shows the held node's variables and its
rendered config (secrets unrendered), ``POST /runs/{id}/step`` starts only
the nodes ready now and pauses before the next, and ``POST /runs/{id}/resume``
runs on to the next breakpoint.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from app.api.deps import CurrentUser, EditorUser, RunId, StateDep, TemporalDep
from app.errors import ApiError
from app.runs.access import visible_run
from app.runs.updates import send_update
from interpreter.contract.client import BREAKPOINTS_UPDATE, SCOPE_QUERY, STEP_UPDATE
from interpreter.runtime.operator import Breakpoints, Step

router = APIRouter(prefix="/runs/{run_id}", tags=["runs"])


class NodeScope(BaseModel):
    """What the node a run is paused before will see when it starts."""

    paused_before: str | None = Field(description="That node's path; null when not held.")
    type: str | None = None
    variables: dict[str, Any] | None = Field(
        default=None, description="The names its expressions read: input, nodes, run, item..."
    )
    config: Any = Field(default=None, description="Its config rendered (secrets unrendered).")
    config_error: str | None = Field(
        default=None, description="Why its config does not render, if it does not."
    )


class Stepped(BaseModel):
    """The nodes a step let start; the run pauses again before the next."""

    started: list[str]


class BreakpointsIn(BaseModel):
    """The run's new breakpoints (they replace the old); ``[]`` removes them all."""

    breakpoints: list[str] | Literal["*"] = Field(max_length=1000)


class BreakpointsOut(BaseModel):
    """The run's breakpoints now."""

    breakpoints: list[str]


@router.get("/scope")
async def read_scope(
    run_id: RunId, user: CurrentUser, state: StateDep, temporal: TemporalDep
) -> NodeScope:
    """The held node's variables and rendered config (all null when no node is held)."""
    await visible_run(temporal, state, run_id, user)
    handle = temporal.get_workflow_handle(run_id)
    try:
        seen: dict[str, Any] = await handle.query(
            SCOPE_QUERY, result_type=dict, rpc_timeout=state.temporal.rpc_timeout
        )
    except (WorkflowQueryFailedError, RPCError):
        raise ApiError(
            503,
            f"no worker answered for run {run_id}; check that a worker polls task queue "
            f"{state.settings.task_queue!r} and retry",
        ) from None
    return NodeScope(
        paused_before=seen.get("node"),
        type=seen.get("type"),
        variables=seen.get("variables"),
        config=seen.get("config"),
        config_error=seen.get("config_error"),
    )


@router.post("/step")
async def step(run_id: RunId, user: EditorUser, state: StateDep, temporal: TemporalDep) -> Stepped:
    """Start only the nodes ready now, then pause before the next (409 unless paused)."""
    started = await send_update(
        temporal, state, run_id, user, update=STEP_UPDATE, argument=Step(), result_type=list,
        what="step", refused_status=409,
    )  # fmt: skip
    return Stepped(started=[str(path) for path in started])


@router.put("/breakpoints")
async def put_breakpoints(
    run_id: RunId, user: EditorUser, state: StateDep, temporal: TemporalDep, body: BreakpointsIn
) -> BreakpointsOut:
    """Replace a live run's breakpoints (422 naming a path that is no node of the run)."""
    wanted = ["*"] if body.breakpoints == "*" else body.breakpoints
    kept = await send_update(
        temporal, state, run_id, user, update=BREAKPOINTS_UPDATE,
        argument=Breakpoints(breakpoints=wanted), result_type=list, what="breakpoints",
        refused_status=422,
    )  # fmt: skip
    return BreakpointsOut(breakpoints=[str(path) for path in kept])

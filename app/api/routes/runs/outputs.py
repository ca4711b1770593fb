"""Full values: a run's output and one node's output, never cut to a preview.

The run view (``GET /runs/{id}``) caps every output at
``FLOWFORGE_RUN_MAX_SNAPSHOT_OUTPUT_BYTES``; these return the whole value as
the response body, up to the payload limit a value may reach.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from app.api.deps import CurrentUser, RunId, SessionDep, StateDep, TemporalDep
from app.api.routes.runs.nodes import NodeId
from app.errors import ApiError
from app.runs.access import visible_run
from app.runs.reading import snapshot
from app.runs.rerun import node_outputs
from app.runs.status import run_status
from app.runs.task_failure import no_answer
from app.runs.waiting import wait_for_end, wait_seconds
from interpreter.contract.run import RunStatus

router = APIRouter(prefix="/runs/{run_id}", tags=["runs"])

_VALUE: dict[int | str, dict[str, Any]] = {
    200: {"description": "The value, as JSON.", "content": {"application/json": {}}}
}


@router.get("/output", response_class=JSONResponse, responses=_VALUE)
async def read_run_output(
    run_id: RunId,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    temporal: TemporalDep,
    wait: Annotated[
        float | None,
        Query(
            description=(
                "Seconds to wait for a running run's end (at most "
                "FLOWFORGE_RUN_WAIT_MAX_SECONDS) before answering 409."
            )
        ),
    ] = None,
) -> Any:
    """The output of a succeeded run, in full.

    409 while the run has not ended (after waiting ``wait`` seconds for it to),
    or when it ended otherwise (it has no output).
    """
    seconds = wait_seconds(wait, state.settings)
    description = await visible_run(temporal, state, run_id, user)
    if description.status == WorkflowExecutionStatus.RUNNING and seconds:
        # The wait needs no database: the connection the user's lookup took goes back
        # to the pool now, not when the run ends (waiting readers would hold the pool).
        await session.close()
        ended = await wait_for_end(temporal, run_id, seconds, state.temporal.rpc_timeout)
        if ended is not None and ended.status == RunStatus.SUCCEEDED:
            return JSONResponse(ended.output)
        if ended is not None:
            raise ApiError(
                409, f"run {run_id} is {ended.status}: only a succeeded run has an output"
            )
    if description.status != WorkflowExecutionStatus.COMPLETED:
        status = run_status(description.status, None)
        if description.status == WorkflowExecutionStatus.RUNNING:
            raise ApiError(409, f"run {run_id} is running: it has no output until it succeeds")
        raise ApiError(409, f"run {run_id} is {status}: only a succeeded run has an output")
    handle = temporal.get_workflow_handle(run_id, run_id=description.run_id)
    try:
        value = await handle.result(follow_runs=False, rpc_timeout=state.temporal.rpc_timeout)
    except WorkflowFailureError:  # it was reset and failed in the meantime
        raise ApiError(409, f"run {run_id} has no output") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(404, f"run {run_id} not found") from None
        raise
    return JSONResponse(value)


@router.get("/nodes/{node_id}/output", response_class=JSONResponse, responses=_VALUE)
async def read_node_output(
    run_id: RunId, node_id: NodeId, user: CurrentUser, state: StateDep, temporal: TemporalDep
) -> Any:
    """The output of a succeeded top-level node, in full (a for_each: every item's).

    404 for a node the run does not have, 409 for one that has not succeeded.
    """
    description = await visible_run(temporal, state, run_id, user)
    handle = temporal.get_workflow_handle(run_id)
    wait = state.temporal.query_timeout
    outputs = await node_outputs(handle, [node_id], wait)
    if outputs is None:
        raise await no_answer(
            temporal,
            description,
            state.temporal.rpc_timeout,
            state.settings.task_queue,
            "output query",
        )
    if node_id in outputs:
        return JSONResponse(outputs[node_id])
    snap = await snapshot(handle, wait)
    node = next((n for n in snap.nodes if n.id == node_id), None) if snap else None
    if node is None:
        raise ApiError(404, f"run {run_id} has no node {node_id!r}")
    raise ApiError(
        409,
        f"node {node_id!r} of run {run_id} is {node.status}: only a succeeded node has an output",
    )

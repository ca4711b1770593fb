"""Starting runs of a workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.access import EditableWorkflow
from app.api.deps import SessionDep, StateDep, TemporalDep, idempotency_key
from app.errors import ApiError
from app.runs.launch import launch_run
from app.runs.links import temporal_link
from app.runs.reading import describe, summary
from app.runs.schemas import RunAccepted, RunCreate, RunEnded
from app.runs.waiting import wait_for_end, wait_seconds
from interpreter.contract.run import RunStatus

router = APIRouter(tags=["runs"])

Wait = Annotated[
    float | None,
    Query(
        description=(
            "Seconds to wait for the run's end (at most FLOWFORGE_RUN_WAIT_MAX_SECONDS): "
            "200 with its status and output or error if it ends by then, else the "
            "usual answer while it runs."
        )
    ),
]

IdempotencyKey = Annotated[
    str | None,
    idempotency_key(
        "Repeat a start safely: the same key for the same workflow "
        "returns the same run (200) instead of starting another."
    ),
]


@router.post(
    "/workflows/{workflow_id}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {
            "model": RunEnded,
            "description": "The run this Idempotency-Key started, or (with `wait`) the run at "
            "its end",
        }
    },
)
async def start_run(
    workflow: EditableWorkflow,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    body: RunCreate,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    wait: Wait = None,
) -> RunEnded | RunAccepted:
    """Run the active version (or ``version``) with ``input``."""
    seconds = wait_seconds(wait, state.settings)
    launched = await launch_run(
        client=temporal,
        session=session,
        state=state,
        workflow=workflow,
        version=body.version,
        run_input=body.input,
        idempotency_key=idempotency_key,
        trigger="api",
        breakpoints=["*"] if body.breakpoints == "*" else body.breakpoints,
    )
    run_id = launched.started.run_id
    if seconds:
        ended = await wait_for_end(temporal, run_id, seconds, state.temporal.rpc_timeout)
        if ended is not None:
            response.status_code = status.HTTP_200_OK
            return RunEnded(
                run_id=run_id,
                workflow_id=str(workflow.id),
                version=launched.version,
                status=ended.status,
                temporal=temporal_link(state.settings, run_id, None),
                output=ended.output,
                error=ended.error,
            )
    if launched.started.created:
        return RunAccepted(
            run_id=run_id,
            workflow_id=str(workflow.id),
            version=launched.version,
            status=RunStatus.RUNNING,
            temporal=temporal_link(state.settings, run_id, launched.started.temporal_run_id),
        )
    response.status_code = status.HTTP_200_OK
    existing = await describe(temporal, run_id, state.temporal.rpc_timeout)
    if existing is None:
        raise ApiError(404, f"run {run_id} not found")
    shown = summary(existing, state.settings)
    return RunAccepted(
        run_id=run_id,
        workflow_id=shown.workflow_id or str(workflow.id),
        version=shown.version or launched.version,
        status=shown.status,
        temporal=shown.temporal,
    )

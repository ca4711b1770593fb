"""Starting runs of a workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from app.api.access import EditableWorkflow
from app.api.deps import SessionDep, StateDep, TemporalDep
from app.api.errors import ApiError, ErrorItem
from app.api.run_inputs import input_errors
from app.db.crud.runs import record_run
from app.db.crud.workflows import get_version
from app.db.models.run import RunRecord
from app.runs.ids import idempotent_run_id, new_run_id
from app.runs.links import temporal_link
from app.runs.reading import describe, summary
from app.runs.schemas import RunAccepted, RunCreate
from app.runs.start import start_once
from interpreter.definition import Definition
from interpreter.run import RunInput, RunMeta, RunStatus

router = APIRouter(tags=["runs"])

TRIGGER = "api"

IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Repeat a start safely: the same key for the same workflow "
        "returns the same run (200) instead of starting another.",
    ),
]


@router.post(
    "/workflows/{workflow_id}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": RunAccepted, "description": "The run this Idempotency-Key started"}},
)
async def start_run(
    workflow: EditableWorkflow,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    body: RunCreate,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RunAccepted:
    """Run the active version (or ``version``) with ``input``."""
    number = body.version or workflow.active_version
    version = await get_version(session=session, workflow_id=workflow.id, version=number)
    if version is None:
        raise ApiError(
            422,
            f"workflow {workflow.id} has no version {number}",
            errors=[ErrorItem(path="/version", code="unknown_version", message="no such version")],
        )
    definition = Definition.model_validate(version.definition)
    errors = input_errors(definition.input_schema, body.input)
    if errors:
        raise ApiError(
            422,
            f"the input does not match the workflow's input_schema ({len(errors)} problem(s))",
            errors=errors,
        )
    settings = state.settings
    run_id = idempotent_run_id(workflow.id, idempotency_key) if idempotency_key else new_run_id()
    started = await start_once(
        temporal,
        RunInput(
            definition=definition,
            input=body.input,
            meta=RunMeta(
                workflow_id=str(workflow.id), version=number, owner=str(workflow.owner_id)
            ),
        ),
        run_id=run_id,
        task_queue=settings.task_queue,
        idempotent=idempotency_key is not None,
        rpc_timeout=state.temporal.rpc_timeout,
    )
    await record_run(
        session=session,
        record=RunRecord(
            run_id=run_id,
            workflow_id=workflow.id,
            version=number,
            owner_id=workflow.owner_id,
            trigger=TRIGGER,
            idempotency_key=idempotency_key,
        ),
    )
    if started.created:
        state.metrics.runs_started.labels(str(workflow.id), TRIGGER).inc()
        return RunAccepted(
            run_id=run_id,
            workflow_id=str(workflow.id),
            version=number,
            status=RunStatus.RUNNING,
            temporal=temporal_link(settings, run_id, started.temporal_run_id),
        )
    response.status_code = status.HTTP_200_OK
    existing = await describe(temporal, run_id, state.temporal.rpc_timeout)
    if existing is None:
        raise ApiError(404, f"run {run_id} not found")
    shown = summary(existing, settings)
    return RunAccepted(
        run_id=run_id,
        workflow_id=shown.workflow_id or str(workflow.id),
        version=shown.version or number,
        status=shown.status,
        temporal=shown.temporal,
    )

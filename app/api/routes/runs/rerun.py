"""Rerunning a run: same pinned definition and input, optionally from one node on."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import EditorUser, RunId, SessionDep, StateDep, TemporalDep
from app.db.crud.workflows import get_workflow
from app.errors import ApiError, ErrorItem
from app.runs.access import visible_run
from app.runs.launch import start_and_index
from app.runs.links import temporal_link
from app.runs.rerun import node_outputs, original_input, rerun_input, upstream_of
from app.runs.schemas import RunAccepted
from interpreter.contract.run import RunStatus

router = APIRouter(tags=["runs"])


class RerunIn(BaseModel):
    """Rerun a run.

    Attributes:
        from_node: Run this node and everything after it again; the nodes
            upstream of it that succeeded keep their old outputs.
    """

    model_config = ConfigDict(extra="forbid")

    from_node: str | None = Field(default=None, min_length=1, max_length=200)


@router.post("/runs/{run_id}/rerun", status_code=status.HTTP_202_ACCEPTED)
async def rerun(
    run_id: RunId,
    user: EditorUser,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    body: RerunIn | None = None,
) -> RunAccepted:
    """Start a new run with the old run's input and pinned version (trigger ``rerun``)."""
    await visible_run(temporal, state, run_id, user)
    handle = temporal.get_workflow_handle(run_id)
    old = await original_input(temporal, handle)
    if old is None or old.batch is not None or old.depth > 0:
        raise ApiError(409, f"run {run_id} is part of another run: rerun that run instead")
    workflow = await get_workflow(session=session, workflow_id=uuid.UUID(old.meta.workflow_id))
    if workflow is None:
        raise ApiError(409, f"the workflow of run {run_id} was deleted: it cannot run again")
    reuse = {}
    if body is not None and body.from_node is not None:
        upstream = upstream_of(old.definition, body.from_node)
        if upstream is None:
            raise ApiError(
                422,
                f"run {run_id} has no node {body.from_node!r}",
                errors=[
                    ErrorItem(path="/body/from_node", code="unknown_node", message="no such node")
                ],
            )
        outputs = await node_outputs(
            handle, upstream, state.temporal.query_timeout, state.settings.run.max_payload_bytes
        )
        if outputs is None:
            raise ApiError(
                503,
                f"no worker answered for the outputs of run {run_id}; check that a worker "
                f"polls task queue {state.settings.task_queue!r} and retry",
            )
        reuse = outputs
    launched = await start_and_index(
        client=temporal,
        session=session,
        state=state,
        workflow=workflow,
        run=rerun_input(old, reuse),
    )
    new_id = launched.started.run_id
    return RunAccepted(
        run_id=new_id,
        workflow_id=str(workflow.id),
        version=old.meta.version,
        status=RunStatus.RUNNING,
        temporal=temporal_link(state.settings, new_id, launched.started.temporal_run_id),
    )

"""Starting a run of a workflow: shared by every route that starts runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from app.api.children import children_of_run
from app.api.errors import ApiError, ErrorItem
from app.api.run_inputs import input_errors
from app.core.state import AppState
from app.db.crud.runs import record_run
from app.db.crud.workflows import get_version
from app.db.models.run import RunRecord
from app.db.models.workflow import Workflow
from app.runs.ids import idempotent_run_id, new_run_id
from app.runs.start import Started, start_once
from interpreter.definition import Definition
from interpreter.run import RunInput, RunMeta, RunOptions


@dataclass(frozen=True)
class Launched:
    """A run that was started (or found again by its idempotency key)."""

    version: int
    started: Started


async def launch_run(
    *,
    client: Client,
    session: AsyncSession,
    state: AppState,
    workflow: Workflow,
    version: int | None,
    run_input: Any,
    idempotency_key: str | None,
    trigger: str,
) -> Launched:
    """Start ``workflow`` at ``version`` (its active one if None) with ``run_input``.

    The run belongs to the workflow's owner whoever starts it, and is indexed
    in PostgreSQL once Temporal has it (a repeat with the same key indexes it
    if an earlier attempt could not).

    Raises:
        ApiError: 422 for a version that does not exist, an input that
            breaks the definition's ``input_schema`` (every violation listed),
            or a ``sub_workflow`` target that cannot be pinned (see
            :func:`app.api.children.pin_children`).
    """
    number = version or workflow.active_version
    row = await get_version(session=session, workflow_id=workflow.id, version=number)
    if row is None:
        raise ApiError(
            422,
            f"workflow {workflow.id} has no version {number}",
            errors=[ErrorItem(path="/version", code="unknown_version", message="no such version")],
        )
    definition = Definition.model_validate(row.definition)
    errors = input_errors(definition.input_schema, run_input)
    if errors:
        raise ApiError(
            422,
            f"the input does not match the workflow's input_schema ({len(errors)} problem(s))",
            errors=errors,
        )
    children = await children_of_run(
        session=session,
        workflow=workflow,
        version=number,
        definition=definition,
        max_depth=state.settings.max_sub_workflow_depth,
    )
    run_id = idempotent_run_id(workflow.id, idempotency_key) if idempotency_key else new_run_id()
    meta = RunMeta(
        workflow_id=str(workflow.id), version=number, owner=str(workflow.owner_id), trigger=trigger
    )
    started = await start_once(
        client,
        RunInput(
            definition=definition,
            input=run_input,
            meta=meta,
            options=RunOptions(max_sub_workflow_depth=state.settings.max_sub_workflow_depth),
            children=children,
        ),
        run_id=run_id,
        task_queue=state.settings.task_queue,
        idempotent=idempotency_key is not None,
        rpc_timeout=state.temporal.rpc_timeout,
    )
    record = RunRecord(
        run_id=run_id,
        workflow_id=workflow.id,
        version=number,
        owner_id=workflow.owner_id,
        trigger=trigger,
        idempotency_key=idempotency_key,
    )
    await record_run(session=session, record=record)
    if started.created:
        state.metrics.runs_started.labels(str(workflow.id), trigger).inc()
    return Launched(version=number, started=started)

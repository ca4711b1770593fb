"""Starting a run of a workflow: every way of starting one ends here."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from app.core.state import AppState
from app.db.crud.runs import get_run_record, record_run
from app.db.models.run import RunRecord
from app.db.models.workflow import Workflow, WorkflowStatus
from app.errors import ApiError, ErrorItem
from app.runs.ids import idempotent_run_id, new_run_id
from app.runs.pinning import pinned_run_input
from app.runs.quotas import check_run_start
from app.runs.start import Started, start_once
from interpreter.contract.run import RunInput
from interpreter.contract.signing import sign_run
from interpreter.dsl.payloads import over_limit
from interpreter.run_proof import canonical_json
from interpreter.runtime.operator import check_breakpoints


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
    breakpoints: list[str] | None = None,
) -> Launched:
    """Start ``workflow`` at ``version`` (its active one if None) with ``run_input``.

    With ``breakpoints`` the run pauses before those nodes (422 at
    ``/breakpoints`` for one that is no node of the definition).

    The run belongs to the workflow's owner whoever starts it, and is indexed
    in PostgreSQL once Temporal has it (a repeat with the same key indexes it
    if an earlier attempt could not).

    Raises:
        ApiError: 422 for a version that does not exist, an input that
            breaks the definition's ``input_schema`` (every violation listed),
            or a ``sub_workflow`` target that cannot be pinned (see
            :func:`app.runs.children.pin_children`); 429 past a quota (see
            :func:`start_and_index`).
    """
    run = await pinned_run_input(
        session=session,
        settings=state.settings,
        workflow=workflow,
        version=version,
        run_input=run_input,
        trigger=trigger,
        input_path="",
        version_path="/version",
    )
    if breakpoints:
        try:
            check_breakpoints(run.definition, breakpoints)
        except ValueError as exc:
            item = ErrorItem(path="/breakpoints", code="unknown_node", message=str(exc))
            raise ApiError(422, str(exc), errors=[item]) from None
        run = run.model_copy(update={"breakpoints": breakpoints})
    return await start_and_index(
        client=client,
        session=session,
        state=state,
        workflow=workflow,
        run=run,
        idempotency_key=idempotency_key,
    )


def input_digest(value: Any) -> str:
    """sha256 (hex) of a run input's canonical JSON."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


class WorkflowPaused(ApiError):
    """409: the workflow is paused, so nothing starts a run of it."""


def refuse_paused(workflow: Workflow) -> None:
    """Refuse to start a run of a paused workflow.

    Raises:
        WorkflowPaused: naming how to resume it.
    """
    if workflow.status == WorkflowStatus.PAUSED:
        raise WorkflowPaused(
            409,
            f"workflow {workflow.name!r} is paused: resume it with PATCH /workflows/"
            f'{workflow.id} {{"status": "active"}} to start runs',
        )


class IdempotencyKeyReused(ApiError):
    """422 ``idempotency_key_reused``: the key already started a run with another input."""


def refuse_reused_key(known: RunRecord, digest: str | None) -> None:
    """Refuse a start whose idempotency key already started a run with another input.

    Raises:
        IdempotencyKeyReused: naming the run the key started.
    """
    if known.input_digest is None or known.input_digest == digest:
        return
    raise IdempotencyKeyReused(
        422,
        f"this Idempotency-Key already started run {known.run_id} with another input: "
        "send that input again to get that run, or use a new key for a new run",
        errors=[
            ErrorItem(
                path="/header/idempotency-key",
                code="idempotency_key_reused",
                message=f"used for run {known.run_id} with another input",
            )
        ],
    )


async def start_and_index(
    *,
    client: Client,
    session: AsyncSession,
    state: AppState,
    workflow: Workflow,
    run: RunInput,
    idempotency_key: str | None = None,
    rerun_of: str | None = None,
) -> Launched:
    """Start a run input that is already pinned, index it and count it.

    ``rerun_of`` is the run a rerun (or redrive) redoes, kept in its index row.

    Every start goes through here (API starts, triggers, reruns), so each run
    is indexed in PostgreSQL and counted in ``runs_started`` exactly once, and
    carries the API's proof for its run id (workers act for its owner only on it).
    The one place the owner's start quotas are checked, too: a repeat of an
    idempotent start that is already indexed is not a new start and passes.

    Raises:
        ApiError: 429 with ``Retry-After`` past the owner's runs in flight or
            run starts per minute (:func:`app.runs.quotas.check_run_start`);
            422 for a run input Temporal could not store (a rerun reusing
            large outputs, a large definition and input together).
        WorkflowPaused: the workflow is paused.
    """
    refuse_paused(workflow)
    return await start_owned_and_index(
        client=client,
        session=session,
        state=state,
        owner_id=workflow.owner_id,
        workflow_id=workflow.id,
        run=run,
        idempotency_key=idempotency_key,
        rerun_of=rerun_of,
    )


async def start_owned_and_index(
    *,
    client: Client,
    session: AsyncSession,
    state: AppState,
    owner_id: uuid.UUID,
    workflow_id: uuid.UUID | None,
    run: RunInput,
    idempotency_key: str | None = None,
    rerun_of: str | None = None,
) -> Launched:
    """:func:`start_and_index` for a run of ``owner_id``, of workflow ``workflow_id`` if any.

    ``workflow_id`` is None only for a test run of a bare definition (no
    workflow, so nothing to pause and no idempotency key to scope).

    Raises:
        ApiError: as :func:`start_and_index`.
    """
    if idempotency_key is not None and workflow_id is None:
        raise ValueError("an idempotent start needs the workflow its key is scoped to")
    limit = state.settings.run.max_payload_bytes
    size = over_limit(run, limit)
    if size is not None:
        raise ApiError(
            422,
            f"the run's start input (definition, input, pinned sub_workflows and reused "
            f"outputs) is {size} bytes as JSON, over the {limit}-byte limit of one Temporal "
            "payload (FLOWFORGE_RUN_MAX_PAYLOAD_BYTES); pass a smaller input, or rerun from "
            "a node with less upstream of it",
        )
    run_id = (
        idempotent_run_id(workflow_id, idempotency_key)
        if idempotency_key and workflow_id is not None
        else new_run_id()
    )
    digest = input_digest(run.input) if idempotency_key else None
    known = await get_run_record(session=session, run_id=run_id) if idempotency_key else None
    if known is None:
        await check_run_start(client=client, session=session, state=state, owner_id=owner_id)
    else:
        refuse_reused_key(known, digest)
    run = sign_run(run, run_id, state.settings.run_keys())
    trigger = run.meta.trigger
    started = await start_once(
        client,
        run,
        run_id=run_id,
        task_queue=state.settings.task_queue,
        idempotent=idempotency_key is not None,
        rpc_timeout=state.temporal.rpc_timeout,
    )
    record = RunRecord(
        run_id=run_id,
        workflow_id=workflow_id,
        version=run.meta.version,
        owner_id=owner_id,
        trigger=trigger,
        idempotency_key=idempotency_key,
        input_digest=digest,
        rerun_of=rerun_of,
        arm=run.meta.arm,
    )
    await record_run(session=session, record=record)
    if known is None and idempotency_key is not None and not started.created:
        # A concurrent start with the same key won the race: it is the one indexed.
        winner = await get_run_record(session=session, run_id=run_id)
        if winner is not None:
            refuse_reused_key(winner, digest)
    if started.created:
        state.metrics.runs_started.labels(trigger).inc()
    return Launched(version=run.meta.version, started=started)

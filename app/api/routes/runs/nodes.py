"""One node of a run: its detail, and retrying or skipping it when the run is suspended on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from app.api.deps import CurrentUser, EditorUser, RunId, SessionDep, StateDep, TemporalDep
from app.api.pagination import Cursor, Page, PageSize, seal_token, unseal_token
from app.db.crud.attempts import list_attempts
from app.db.crud.deliveries import list_deliveries
from app.errors import ApiError
from app.runs.access import visible_run
from app.runs.attempts import pending_attempts, with_attempts
from app.runs.links import dashboard_url
from app.runs.operator_schemas import (
    AttemptEntry,
    DeliveryAttempt,
    NodeDetail,
    NodeRetryIn,
    NodeSkipIn,
)
from app.runs.reading import batch_first_item, batch_query, list_page, summary
from app.runs.redrive import rerun_run
from app.runs.schemas import BatchRun, NodeRetried, RunAction
from app.runs.snapshot_cache import run_snapshot
from app.runs.status import run_status
from app.runs.task_failure import no_answer
from app.runs.updates import send_update
from interpreter.contract.client import RETRY_NODE_UPDATE, SKIP_NODE_UPDATE
from interpreter.contract.run import RunStatus
from interpreter.dsl.definition import NODE_ID_PATTERN
from interpreter.nodes import WEBHOOK, kind_of
from interpreter.runtime.operator import NodeRetry, NodeSkip

router = APIRouter(prefix="/runs/{run_id}/nodes/{node_id}", tags=["runs"])

# No id pattern: an id no node could have is simply not found (404).
NodeId = Annotated[str, Path(min_length=1, max_length=200, description="The node's id.")]


@router.get("")
async def read_node(
    run_id: RunId,
    node_id: NodeId,
    user: CurrentUser,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> NodeDetail:
    """The node's status, attempts, timestamps, output, error and progress.

    A ``webhook`` node also lists every delivery attempt (``deliveries``, oldest first);
    an activity node every attempt the worker saw end (``attempt_log``), and
    ``retrying`` with ``last_error`` between two attempts.
    """
    description = await visible_run(temporal, state, run_id, user)
    snap = await run_snapshot(
        state.closed_snapshots,
        temporal.get_workflow_handle(run_id),
        description,
        state.temporal.query_timeout,
    )
    if snap is None:
        raise await no_answer(
            temporal,
            description,
            state.temporal.rpc_timeout,
            state.settings.task_queue,
            "status query",
        )
    node = next((n for n in snap.nodes if n.id == node_id), None)
    if node is None:
        raise ApiError(404, f"run {run_id} has no node {node_id!r}")
    shown = with_attempts([node], await pending_attempts(temporal, description))[0]
    detail = NodeDetail.model_validate(shown.model_dump())
    kind = kind_of(node.type)
    if kind is not None and kind.activity is not None:
        attempts = await list_attempts(session=session, run_id=run_id, node_id=node_id)
        detail.attempt_log = [AttemptEntry.model_validate(row) for row in attempts]
    if kind_of(node.type) is WEBHOOK:
        rows = await list_deliveries(session=session, run_id=run_id, node_id=node_id)
        detail.deliveries = [DeliveryAttempt.model_validate(row) for row in rows]
    return detail


@router.get("/batches")
async def list_batches(
    run_id: RunId,
    node_id: Annotated[str, Path(pattern=NODE_ID_PATTERN, description="A for_each node's id.")],
    user: CurrentUser,
    state: StateDep,
    temporal: TemporalDep,
    request: Request,
    limit: PageSize,
    cursor: Cursor = None,
) -> Page[BatchRun]:
    """The child runs a for_each node's items ran in, past the batch threshold.

    Each page is in item order (Temporal lists the batches, newest first, page
    by page). A node that ran its items inline, or has not started a batch yet,
    has none. The batches are read from Temporal's visibility, which lags their
    start by a moment.
    """
    description = await visible_run(temporal, state, run_id, user)
    query = batch_query(description.id, node_id)
    key = state.cursor_key
    executions, token = await list_page(
        temporal,
        query,
        limit=limit,
        token=unseal_token(cursor, key=key, scope=query),
        rpc_timeout=state.temporal.rpc_timeout,
    )
    base = str(request.base_url)
    batches = []
    for execution in executions:
        first = batch_first_item(description.id, node_id, execution.id)
        if first is None:
            continue
        shown = summary(execution, state.settings)
        batches.append(
            BatchRun(
                **shown.model_dump(),
                first_item=first,
                dashboard_url=dashboard_url(state.settings, base, execution.id),
            )
        )
    batches.sort(key=lambda batch: batch.first_item)
    return Page(items=batches, next_cursor=seal_token(token, key=key, scope=query))


@router.post("/retry", status_code=status.HTTP_202_ACCEPTED, response_model_exclude_none=True)
async def retry_node(
    run_id: RunId,
    node_id: NodeId,
    user: EditorUser,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    body: NodeRetryIn | None = None,
) -> NodeRetried:
    """Run the failed node again (``config`` keys replace its config's); the run goes on.

    On a run suspended on this node, the run itself goes on. On a run that
    failed, a new run redrives it from this node (reusing every output that
    succeeded): the answer is the new run, with ``rerun_of`` the failed one.
    409 otherwise.
    """
    description = await visible_run(temporal, state, run_id, user)
    if run_status(description.status, None) == RunStatus.FAILED:
        if body is not None and body.config is not None:
            raise ApiError(
                409,
                f"run {run_id} failed: it is redriven from node {node_id!r} as a new run of "
                "its pinned definition, which takes no config; retry without config",
            )
        redriven = await rerun_run(
            client=temporal,
            session=session,
            state=state,
            user=user,
            run_id=run_id,
            from_node=node_id,
            redrive=True,
            node_path="/path/node_id",
        )
        return NodeRetried(
            run_id=redriven.accepted.run_id, status=RunStatus.RUNNING, rerun_of=run_id
        )
    new_status = await send_update(
        temporal,
        state,
        run_id,
        user,
        update=RETRY_NODE_UPDATE,
        argument=NodeRetry(node_id=node_id, config=body.config if body else None),
        result_type=str,
        what=f"retry of node {node_id!r}",
        refused_status=409,
    )
    return NodeRetried(run_id=run_id, status=RunStatus(new_status))


@router.post("/skip", status_code=status.HTTP_202_ACCEPTED)
async def skip_node(
    run_id: RunId,
    node_id: NodeId,
    user: EditorUser,
    state: StateDep,
    temporal: TemporalDep,
    body: NodeSkipIn | None = None,
) -> RunAction:
    """Mark the failed node skipped with ``output`` as what downstream nodes see; the run goes on.

    409 unless the run is suspended on this node.
    """
    new_status = await send_update(
        temporal,
        state,
        run_id,
        user,
        update=SKIP_NODE_UPDATE,
        argument=NodeSkip(node_id=node_id, output=body.output if body else None),
        result_type=str,
        what=f"skip of node {node_id!r}",
        refused_status=409,
    )
    return RunAction(run_id=run_id, status=RunStatus(new_status))

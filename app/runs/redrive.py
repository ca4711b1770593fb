"""Rerunning and redriving runs: a new run linked to the one it redoes.

A rerun starts the old run's pinned definition and input again, optionally
from one node on (what is upstream of it keeps its old outputs). A redrive is
a rerun of a failed run from the node that failed it, keeping the output of
every node that succeeded (and of every item that succeeded in a for_each it
runs again), on the same version or the workflow's active one.
Either way the new run's index row says which run it reruns (``rerun_of``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from app.core.state import AppState
from app.db.crud.workflows import get_workflow
from app.db.models.user import User
from app.db.models.workflow import Workflow
from app.errors import ApiError, ErrorItem
from app.runs.access import visible_run
from app.runs.items import item_reuse, on_definition
from app.runs.launch import start_and_index
from app.runs.links import temporal_link
from app.runs.pinning import pinned_run_input
from app.runs.reading import snapshot
from app.runs.rerun import (
    node_outputs,
    original_input,
    rerun_input,
    rerun_trigger,
    upstream_of,
)
from app.runs.schemas import RunAccepted
from app.runs.status import run_status
from interpreter.contract.run import ItemReuse, NodeStatus, RunInput, RunSnapshot, RunStatus
from interpreter.dsl.definition import Definition
from interpreter.dsl.graph import Graph


class RedriveVersion(StrEnum):
    """Which version a redrive runs: the failed run's own, or the workflow's active one."""

    SAME = "same"
    ACTIVE = "active"


@dataclass(frozen=True)
class Redriven:
    """A run started again: the new run, and the one it reruns."""

    accepted: RunAccepted
    rerun_of: str


def failing_node(snap: RunSnapshot) -> str | None:
    """The node whose error failed the run (the failed node with the run's error), if any."""
    failed = [node for node in snap.nodes if node.status == NodeStatus.FAILED]
    if snap.error is not None:
        for node in failed:
            if node.error is not None and (node.error.type, node.error.message) == (
                snap.error.type,
                snap.error.message,
            ):
                return node.id
    ended = sorted(failed, key=lambda node: (node.ended_at is None, node.ended_at or 0))
    return ended[0].id if ended else None


def downstream_of(definition: Definition, node_id: str) -> set[str]:
    """``node_id`` and every node it has a path to."""
    graph = Graph.build(
        [node.id for node in definition.nodes],
        [(edge.source, edge.target) for edge in definition.edges],
    )
    seen: set[str] = set()
    todo = [node_id]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(graph.children.get(current, []))
    return seen


async def rerun_run(
    *,
    client: Client,
    session: AsyncSession,
    state: AppState,
    user: User,
    run_id: str,
    from_node: str | None = None,
    redrive: bool = False,
    version: RedriveVersion = RedriveVersion.SAME,
    node_path: str = "/body/from_node",
) -> Redriven:
    """Start run ``run_id`` again and link the new run to it.

    With ``redrive`` the run must have failed: it restarts from ``from_node``
    (the node that failed it if None), reusing the output of every node that
    succeeded and is not downstream of that node, and of every item that
    succeeded in a for_each that runs again with all upstream of it reused
    (see :mod:`app.runs.items`). Without, ``from_node``
    keeps only what is upstream of it (a plain rerun).

    Raises:
        ApiError: 404 for a run the user may not see; 409 for a run that is
            part of another run, whose workflow was deleted or that tested a
            bare definition, or (redrive) that
            did not fail; 422 for an unknown ``from_node`` (at ``node_path``);
            503 when no worker answers for the run's state.
    """
    await visible_run(client, state, run_id, user)
    handle = client.get_workflow_handle(run_id)
    old = await original_input(client, handle)
    if old is None or old.batch is not None or old.depth > 0:
        raise ApiError(409, f"run {run_id} is part of another run: rerun that run instead")
    if not old.meta.workflow_id:
        raise ApiError(
            409,
            f"run {run_id} tested a definition that was never saved: it cannot run again; "
            "test the definition again (POST /workflows/test)",
        )
    workflow = await get_workflow(session=session, workflow_id=uuid.UUID(old.meta.workflow_id))
    if workflow is None:
        raise ApiError(409, f"the workflow of run {run_id} was deleted: it cannot run again")
    wait = state.temporal.query_timeout
    budget = state.settings.run.max_payload_bytes
    if from_node is not None and upstream_of(old.definition, from_node) is None:
        raise _unknown_node(run_id, from_node, node_path)
    reuse: dict[str, Any] = {}
    items: dict[str, ItemReuse] = {}
    if redrive:
        snap = await snapshot(handle, wait)
        if snap is None:
            raise _no_worker(state, run_id)
        description = await handle.describe(rpc_timeout=state.temporal.rpc_timeout)
        shown = run_status(description.status, snap.status.value)
        if shown != RunStatus.FAILED:
            raise ApiError(
                409,
                f"run {run_id} is {shown.value}, not failed: only failed runs are redriven "
                "(rerun it with POST /runs/{id}/rerun)",
            )
        start = from_node or failing_node(snap)
        if start is None:
            raise ApiError(409, f"run {run_id} failed before any node: rerun it instead")
        later = downstream_of(old.definition, start)
        succeeded = [
            node.id
            for node in snap.nodes
            if node.status == NodeStatus.SUCCEEDED and node.id not in later
        ]
        outputs = await node_outputs(handle, succeeded, wait, budget)
        if outputs is None:
            raise _no_worker(state, run_id)
        reuse = outputs
        items = await item_reuse(client, handle, rerun_input(old, reuse), snap, budget, wait)
    elif from_node is not None:
        outputs = await node_outputs(
            handle, upstream_of(old.definition, from_node) or [], wait, budget
        )
        if outputs is None:
            raise _no_worker(state, run_id)
        reuse = outputs
    run = rerun_input(old, reuse)
    if version == RedriveVersion.ACTIVE and workflow.active_version != old.meta.version:
        run = await _on_active(session, state, workflow_run=old, reuse=reuse, workflow=workflow)
        items = on_definition(items, old.definition, run.definition, run.reuse)
    if items:
        run = run.model_copy(update={"reuse_items": items})
    launched = await start_and_index(
        client=client, session=session, state=state, workflow=workflow, run=run, rerun_of=run_id
    )
    new_id = launched.started.run_id
    accepted = RunAccepted(
        run_id=new_id,
        workflow_id=str(workflow.id),
        version=launched.version,
        status=RunStatus.RUNNING,
        temporal=temporal_link(state.settings, new_id, launched.started.temporal_run_id),
        rerun_of=run_id,
    )
    return Redriven(accepted=accepted, rerun_of=run_id)


async def _on_active(
    session: AsyncSession,
    state: AppState,
    *,
    workflow_run: RunInput,
    reuse: dict[str, Any],
    workflow: Workflow,
) -> RunInput:
    """The old run's input on the workflow's active version, reusing outputs by node id."""
    pinned = await pinned_run_input(
        session=session,
        settings=state.settings,
        workflow=workflow,
        version=None,
        run_input=workflow_run.input,
        trigger="rerun",
        input_path="/input",
        version_path="/version",
    )
    known = {node.id for node in pinned.definition.nodes}
    kept = {node_id: output for node_id, output in reuse.items() if node_id in known}
    # A test run stays one on the active version, its mocks with it: a key the version
    # lacks mocks nothing, and an unmocked side effect is refused, never run for real.
    meta = pinned.meta.model_copy(
        update={"test": workflow_run.meta.test, "trigger": rerun_trigger(workflow_run)}
    )
    return pinned.model_copy(update={"reuse": kept, "meta": meta})


def _unknown_node(run_id: str, node_id: str, path: str) -> ApiError:
    return ApiError(
        422,
        f"run {run_id} has no node {node_id!r}",
        errors=[ErrorItem(path=path, code="unknown_node", message="no such node")],
    )


def _no_worker(state: AppState, run_id: str) -> ApiError:
    return ApiError(
        503,
        f"no worker answered for the state of run {run_id}; check that a worker "
        f"polls task queue {state.settings.task_queue!r} and retry",
    )

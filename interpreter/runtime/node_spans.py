"""Spans of workflow-side nodes (transform, condition, switch, fail, succeed, wait, mocked...).

Activity nodes get their span from the worker, one per attempt; the nodes the
workflow runs itself get one here as each ends, from its start to its end in
workflow time, with the attributes of an attempt's span. Only while the worker
traces (it gives the workflow :data:`NODE_SPAN_EXTERN`), never while replaying
(the span was emitted when the node ended), and parented under the run's trace
by the worker (the current trace context of the workflow). With tracing off
no :class:`NodeSpans` exists and a node's end asks one ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from interpreter.contract.run import NodeStatus, RunInput
    from interpreter.runtime.trace_root import NODE_SPAN_EXTERN

if TYPE_CHECKING:
    from interpreter.runtime.book import NodeRecord
    from interpreter.runtime.dag import Dag
    from interpreter.runtime.executor import Executor

Emit = Callable[[str, dict[str, Any], int, int, str | None], None]
"""The worker's extern: ``(name, attributes, start ns, end ns, error or None)``."""


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


class NodeSpans:
    """Emits the span of each workflow-side node of one run as it ends."""

    def __init__(self, emit: Emit, executor: Executor, run: RunInput) -> None:
        self._emit = emit
        self._executor = executor
        info = workflow.info()
        run_id = info.parent.workflow_id if run.batch and info.parent else info.workflow_id
        self._run = {
            "flowforge.run_id": run_id,
            "flowforge.workflow_id": run.meta.workflow_id,
            "flowforge.workflow_version": run.meta.version,
        }

    def ended(self, dag: Dag, node_id: str, node: NodeRecord) -> None:
        """The node ended: its span, unless an activity's attempts have theirs or replaying."""
        if workflow.unsafe.is_replaying():
            return
        path = dag.path(node_id)
        tested = self._executor.tested.get(path)
        mocked = tested is not None and tested.mocked
        if dag.kinds[node_id].activity is not None and not mocked:
            return
        end = node.ended_at or workflow.now()
        attributes: dict[str, Any] = {
            **self._run,
            "flowforge.node_id": node_id,
            "flowforge.node_path": path,
            "flowforge.node_type": node.type,
            "flowforge.attempt": max(node.attempts, 1),
            "flowforge.status": node.status.value,
        }
        if mocked:
            attributes["flowforge.mocked"] = True
        if node.reused:
            attributes["flowforge.reused"] = True
        error = None
        if node.status == NodeStatus.FAILED and node.error is not None:
            error = f"{node.error.type}: {node.error.message}"
        self._emit(f"RunNode:{node.type}", attributes, _ns(node.started_at or end), _ns(end), error)


def node_spans(executor: Executor, run: RunInput) -> NodeSpans | None:
    """The run's :class:`NodeSpans` while its worker traces; None otherwise."""
    emit = workflow.extern_functions().get(NODE_SPAN_EXTERN)
    return None if emit is None else NodeSpans(emit, executor, run)

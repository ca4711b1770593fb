"""The DAG engine: runs one graph of nodes (the whole run, or one for_each item).

It owns scheduling and node book-keeping, and evaluates pure nodes itself;
everything that needs Temporal (activities, timers, child workflows), the
clock, and a run-level policy (pause, suspend, continue-as-new) is asked of its
:class:`Host`. Nothing here imports Temporal, so the engine also runs under a
test's fake host and clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from interpreter.contract.oversize import oversize
from interpreter.contract.run import NodeError, NodeStatus
from interpreter.dsl.definition import Edge, Node
from interpreter.dsl.expressions import evaluate_bool
from interpreter.dsl.holes import render
from interpreter.errors import ExpressionError, expression_error_type
from interpreter.nodes import ForEachConfig, NodeDone, NodeFailed, NodeKind, Outcome, kind_of
from interpreter.runtime.book import NodeBook, Stop
from interpreter.runtime.node_spans import NodeSpans
from interpreter.runtime.scheduler import Scheduler
from interpreter.runtime.scope import Scope, expression_references, node_reads, template_references


class Host(Protocol):
    """What a :class:`Dag` asks of whoever runs it (the run, or a for_each item)."""

    def may_start(self) -> bool:
        """False while the run is paused, suspended or draining."""
        ...

    def now(self) -> datetime:
        """The time of node starts and ends (in the workflow: ``workflow.now()``)."""
        ...

    def holds(self, dag: Dag, node_id: str) -> bool:
        """True to keep a ready node from starting: the run pauses before it (a breakpoint)."""
        ...

    async def execute(
        self, dag: Dag, node: Node, kind: NodeKind, variables: dict[str, Any]
    ) -> NodeDone:
        """Run a node that needs Temporal; raise NodeFailed or ExpressionError."""
        ...

    async def run_items(
        self, dag: Dag, node: Node, config: ForEachConfig, items: list[Any]
    ) -> list[Any]:
        """Run a for_each node's body once per item (see :meth:`Dag.run_items`)."""
        ...

    def unhandled(self, dag: Dag, node_id: str, error: NodeError) -> bool:
        """Apply the failure policy; True to settle the node's edges now."""
        ...

    def changed(self) -> None:
        """Something was scheduled or settled."""
        ...


class Dag:
    """One graph being run: its queue of ready nodes, its running tasks, its book.

    Attributes:
        queue: Nodes whose incoming edges are settled, in the order they became ready.
        tasks: Running nodes that need Temporal, by id.
        stop: Why the DAG stopped scheduling early (a fail or succeed node, a
            failure, a cancellation); None while it goes on.
        unhandled: The first failure let through by ``on_failure: continue``.
        max_payload_bytes: The largest node output (as JSON) it records; a
            larger one fails its node with ``OutputTooLarge`` (0: no check)
            if ``checks_payloads()``, asked only then, says so.
    """

    def __init__(
        self,
        host: Host,
        nodes: Sequence[Node],
        edges: Sequence[Edge],
        *,
        scope: Scope,
        limit: int,
        max_output_bytes: int,
        max_payload_bytes: int = 0,
        checks_payloads: Callable[[], bool] = lambda: True,
        prefix: str = "",
        reuse: dict[str, Any] | None = None,
        spans: NodeSpans | None = None,
    ) -> None:
        self.host = host
        self.spans = spans
        self.max_payload_bytes = max_payload_bytes
        self.checks_payloads = checks_payloads
        self.reuse = reuse or {}
        self.scope = scope
        self.prefix = prefix
        self.limit = limit
        self.nodes = {node.id: node for node in nodes}
        self.kinds: dict[str, NodeKind] = {}
        for node in nodes:
            kind = kind_of(node.type)
            if kind is None:  # the API validates first; this guards direct starts
                raise ValueError(f"node {node.id!r}: unknown type {node.type!r}")
            self.kinds[node.id] = kind
        self.reads = {node.id: self._reads_of(node) for node in nodes}
        self.scheduler = Scheduler(nodes, edges)
        self.book = NodeBook(nodes, edges, max_output_bytes, max_payload_bytes)
        if spans is not None:
            self.book.on_end = lambda node_id, node: spans.ended(self, node_id, node)
        # A list, not a deque: a deque takes over 600 bytes however short, and a
        # queue holds at most a definition's nodes (``FLOWFORGE_MAX_NODES``).
        self.queue: list[str] = []
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.stop: Stop | None = None
        self.unhandled: NodeError | None = None

    def _reads_of(self, node: Node) -> frozenset[str]:
        cel = [source for _, source in self.kinds[node.id].cel_fields(node.config)]
        return node_reads(node, cel)

    def path(self, node_id: str) -> str:
        """The node's path in the run (``loop[3].call`` inside a for_each item)."""
        return f"{self.prefix}{node_id}"

    def scope_of(self, node_id: str) -> dict[str, Any]:
        """What ``node_id`` would see if it started now: its variables and rendered config.

        Secrets stay unrendered (``{{ secrets.NAME }}``), as in the run's history.
        """
        node = self.nodes[node_id]
        variables = self.scope.variables(self.reads[node_id])
        seen: dict[str, Any] = {"node": self.path(node_id), "type": node.type}
        seen["variables"] = variables
        try:
            seen["config"] = render(
                node.config, variables, where=f"node {self.path(node_id)!r} config",
                defer=("secrets",),
            )  # fmt: skip
        except ExpressionError as exc:
            seen["config_error"] = str(exc)
        return seen

    def waiting(self, node_id: str) -> None:
        """Show the node as waiting (on a timer or a signal) rather than running."""
        self.book.waiting(node_id)

    async def run_items(self, node: Node, config: ForEachConfig, items: list[Any]) -> list[Any]:
        """Run ``config.body`` once per item, each as a DAG of its own; outputs in item order.

        Raises:
            NodeFailed: naming the failed items.
        """
        return await self.host.run_items(self, node, config, items)

    def start(self) -> None:
        """Queue the root nodes and start as many as the host and ``limit`` allow."""
        self.queue.extend(self.scheduler.roots())
        self.pump()

    def drained(self) -> bool:
        """Whether the DAG is done: no task runs, and it stopped or has nothing left to start."""
        return not self.tasks and (self.stop is not None or not self.queue)

    def error(self) -> NodeError | None:
        """The error the DAG ends with: what stopped it, else the first failure let through."""
        if self.stop is not None and self.stop.error is not None:
            return self.stop.error
        return self.unhandled

    def pump(self) -> None:
        """Start queued nodes while the host allows it and ``limit`` leaves room."""
        while self.queue and self.stop is None and self.host.may_start():
            if len(self.tasks) >= self.limit or self.host.holds(self, self.queue[0]):
                break
            self._begin(self.queue.pop(0))
        self.host.changed()

    def halt(self, stop: Stop) -> None:
        """Stop scheduling; cancel what runs. The first reason to stop wins."""
        if self.stop is None:
            self.stop = stop
        for task in self.tasks.values():
            task.cancel()

    def _begin(self, node_id: str, *, skip_guards: bool = False) -> None:
        node = self.nodes[node_id]
        if not skip_guards and not self.scheduler.join_holds(node_id):
            self._skip(node_id)
            return
        variables = self.scope.variables(self.reads[node_id])
        if node.when is not None and not skip_guards:
            try:
                if not evaluate_bool(node.when, variables):
                    self._skip(node_id)
                    return
            except ExpressionError as exc:
                self.failed(node_id, _expression_failure(exc, "when: "), 0)
                return
        kind = self.kinds[node_id]
        self.book.start(node_id, self.host.now())
        if node_id in self.reuse:
            self.book.reused(node_id)
            self.succeeded(node_id, self.reuse[node_id], variables, 0, mapped=True)
            return
        if kind.evaluate is not None:
            try:
                outcome = kind.evaluate(node.config, variables)
            except ExpressionError as exc:
                self.failed(node_id, _expression_failure(exc), 1)
                return
            self._pure_outcome(node_id, outcome, variables)
            return
        task = asyncio.create_task(self._run_task(node_id, node, kind, variables))
        self.tasks[node_id] = task
        # A done-callback (not try/finally in the task) also sees tasks that
        # were cancelled before they ever started running.
        task.add_done_callback(lambda _task: self._task_done(node_id))

    def _pure_outcome(self, node_id: str, outcome: Outcome, variables: dict[str, Any]) -> None:
        if outcome.fail is not None:
            error = NodeError(type="Fail", message=outcome.fail)
            self.book.fail(node_id, error, 1, self.host.now())
            self.halt(Stop("failed", error=error, node=node_id))
            return
        self.succeeded(node_id, outcome.output, variables, 1)
        if outcome.succeed:
            self.halt(Stop("succeeded", output=outcome.output))

    async def _run_task(
        self, node_id: str, node: Node, kind: NodeKind, variables: dict[str, Any]
    ) -> None:
        try:
            done = await self.host.execute(self, node, kind, variables)
        except NodeFailed as failure:
            self.failed(node_id, failure.error, failure.attempts)
            return
        except ExpressionError as exc:
            self.failed(node_id, _expression_failure(exc), 0)
            return
        self.succeeded(node_id, done.output, variables, done.attempts)

    def _task_done(self, node_id: str) -> None:
        del self.tasks[node_id]
        if self.book.is_active(node_id):
            self.book.cancel(node_id, self.host.now())
        self.pump()

    def succeeded(
        self,
        node_id: str,
        raw: Any,
        variables: dict[str, Any],
        attempts: int,
        *,
        mapped: bool = False,
    ) -> None:
        """Record the node's result, mapped by ``output`` unless ``mapped``; settle its edges."""
        node = self.nodes[node_id]
        output = raw
        if node.output is not None and not mapped:
            try:
                output = render(node.output, {**variables, "result": raw}, where="output")
            except ExpressionError as exc:
                self.failed(node_id, _expression_failure(exc), attempts)
                return
        if self.max_payload_bytes:
            too_large = oversize(
                f"node {self.path(node_id)!r}: its output", output, self.max_payload_bytes
            )
            if too_large is not None and self.checks_payloads():
                self.failed(node_id, too_large, attempts)
                return
        self.book.succeed(node_id, output, attempts, self.host.now())
        self.scope.record(node_id, NodeStatus.SUCCEEDED.value, output, None)
        self._settle(node_id, NodeStatus.SUCCEEDED)

    def failed(self, node_id: str, error: NodeError, attempts: int) -> None:
        """Record the node's failure; its edges settle if a failure edge or the host handles it."""
        where = f"node {self.path(node_id)!r}"
        if not error.message.startswith(where):
            error = error.model_copy(update={"message": f"{where}: {error.message}"})
        self.book.fail(node_id, error, attempts, self.host.now())
        self.scope.record(
            node_id, NodeStatus.FAILED.value, None, {"type": error.type, "message": error.message}
        )
        if self.scheduler.handles_failure(node_id) or self.host.unhandled(self, node_id, error):
            self._settle(node_id, NodeStatus.FAILED)

    def _skip(self, node_id: str) -> None:
        self.book.skip(node_id)
        self.scope.record(node_id, NodeStatus.SKIPPED.value, None, None)
        self._settle(node_id, NodeStatus.SKIPPED)

    def _settle(self, node_id: str, status: NodeStatus) -> None:
        self.queue.extend(self.scheduler.settle(node_id, status, self._edge_taken))

    def _edge_taken(self, edge: Edge) -> bool:
        assert edge.when is not None
        reads = expression_references([edge.when])
        try:
            return evaluate_bool(edge.when, self.scope.variables(reads))
        except ExpressionError as exc:
            error = _expression_failure(exc, f"edge {edge.source} -> {edge.target}: ")
            self.halt(Stop("failed", error=error, node=edge.source))
            return False

    # -- operator actions on a suspended node ------------------------------------

    def retry(self, node_id: str, config: dict[str, Any] | None) -> None:
        """Run a failed (held) node again, optionally with a patched config."""
        if config:
            node = self.nodes[node_id]
            self.nodes[node_id] = node.model_copy(update={"config": {**node.config, **config}})
            self.reads[node_id] = self._reads_of(self.nodes[node_id])
        self.book.reset(node_id)
        self.scope.forget(node_id)
        self._begin(node_id, skip_guards=True)
        self.pump()

    def skip_with(self, node_id: str, output: Any) -> None:
        """Mark a failed (held) node skipped with ``output``; downstream goes on as on success."""
        self.book.skip_with(node_id, output, self.host.now())
        self.scope.record(node_id, NodeStatus.SKIPPED.value, output, None)
        self._settle(node_id, NodeStatus.SUCCEEDED)
        self.pump()

    # -- the end -------------------------------------------------------------------

    def output(self, template: Any) -> Any:
        """The DAG's output: ``template`` rendered, else every succeeded sink's output."""
        if self.stop is not None and self.stop.reason == "succeeded":
            return self.stop.output
        if template is None:
            return self.book.sink_outputs()
        reads = template_references(template)
        return render(template, self.scope.variables(reads), where="output")


def _expression_failure(exc: ExpressionError, prefix: str = "") -> NodeError:
    """An expression's failure as a node error: ``ExpressionTooCostly`` or ``ExpressionError``."""
    return NodeError(type=expression_error_type(exc), message=f"{prefix}{exc}")

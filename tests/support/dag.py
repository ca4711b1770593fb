"""A host and a clock for running the DAG engine without Temporal.

:class:`FakeHost` plays the run: nodes that need Temporal (activity nodes,
timers, ...) do not run; each waits on a future the test settles with
:meth:`FakeHost.finish` or :meth:`FakeHost.fail`. Pure nodes are evaluated by
the engine itself, as in the workflow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from interpreter.contract.run import NodeError
from interpreter.dsl.definition import Edge, Node
from interpreter.nodes import ForEachConfig, NodeDone, NodeFailed, NodeKind
from interpreter.runtime.book import Stop
from interpreter.runtime.dag import Dag
from interpreter.runtime.scope import Scope

START = datetime(2030, 1, 31, 9, 0, tzinfo=UTC)


class FakeClock:
    """Time moves only when a test says so."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def tick(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)


Policy = Literal["fail", "continue", "hold"]


class FakeHost:
    """A :class:`~interpreter.runtime.dag.Host` whose nodes end when the test says.

    Args:
        clock: The clock the DAG reads.
        policy: What an unhandled failure does, as ``on_failure`` does in a
            run: ``fail`` halts the DAG, ``continue`` records it and goes on,
            ``hold`` leaves the node's edges unsettled (a suspended run).

    Attributes:
        open: What :meth:`may_start` answers (False: paused).
        started: Paths of the nodes handed to :meth:`execute`, in order.
        variables: The variables each of those nodes got, by node id.
        unhandled_errors: ``(node_id, error)`` of each unhandled failure.
        changes: How many times the DAG reported a change.
    """

    def __init__(self, clock: FakeClock | None = None, policy: Policy = "fail") -> None:
        self.clock = clock or FakeClock()
        self.policy = policy
        self.open = True
        self.started: list[str] = []
        self.variables: dict[str, dict[str, Any]] = {}
        self.unhandled_errors: list[tuple[str, NodeError]] = []
        self.changes = 0
        self._pending: dict[str, asyncio.Future[NodeDone]] = {}

    def may_start(self) -> bool:
        return self.open

    def holds(self, dag: Dag, node_id: str) -> bool:
        """No breakpoints here."""
        return False

    def now(self) -> datetime:
        return self.clock.now

    async def execute(
        self, dag: Dag, node: Node, kind: NodeKind, variables: dict[str, Any]
    ) -> NodeDone:
        self.started.append(dag.path(node.id))
        self.variables[node.id] = variables
        future: asyncio.Future[NodeDone] = asyncio.get_running_loop().create_future()
        self._pending[node.id] = future
        return await future

    async def run_items(
        self, dag: Dag, node: Node, config: ForEachConfig, items: list[Any]
    ) -> list[Any]:
        raise AssertionError("for_each bodies need the workflow runtime")

    def unhandled(self, dag: Dag, node_id: str, error: NodeError) -> bool:
        self.unhandled_errors.append((node_id, error))
        if self.policy == "fail":
            dag.halt(Stop("failed", error=error, node=node_id))
            return True
        if self.policy == "continue":
            dag.unhandled = dag.unhandled or error
            return True
        return False

    def changed(self) -> None:
        self.changes += 1

    def running(self) -> list[str]:
        """Ids of the nodes waiting on the test, in the order they started."""
        return [node_id for node_id, future in self._pending.items() if not future.done()]

    async def finish(self, node_id: str, output: Any = None, attempts: int = 1) -> None:
        """End ``node_id`` (once it has started) with ``output``."""
        await until(lambda: node_id in self.running())
        self._pending.pop(node_id).set_result(NodeDone(output, attempts))

    async def fail(
        self, node_id: str, message: str = "boom", error_type: str = "HttpError", attempts: int = 1
    ) -> None:
        """Fail ``node_id`` (once it has started) as its activity would, after its retries."""
        await until(lambda: node_id in self.running())
        error = NodeError(type=error_type, message=message)
        self._pending.pop(node_id).set_exception(NodeFailed(error, attempts))


def node(node_id: str, node_type: str = "log", **fields: Any) -> Node:
    """A node; by default one that needs the host (a log node)."""
    return Node.model_validate({"id": node_id, "type": node_type, **fields})


def value(node_id: str, value: Any, **fields: Any) -> Node:
    """A transform node whose output is ``value`` (templates rendered)."""
    return node(node_id, "transform", config={"value": value}, **fields)


def edge(source: str, target: str, **fields: Any) -> Edge:
    return Edge.model_validate({"from": source, "to": target, **fields})


def make_dag(
    host: FakeHost,
    nodes: list[Node],
    edges: list[Edge] | None = None,
    *,
    limit: int = 100,
    run_input: Any = None,
    reuse: dict[str, Any] | None = None,
    prefix: str = "",
) -> Dag:
    return Dag(
        host,
        nodes,
        edges or [],
        scope=Scope(run_input, {"id": "run-1"}),
        limit=limit,
        max_output_bytes=10_000,
        prefix=prefix,
        reuse=reuse,
    )


async def until(predicate: Callable[[], bool], turns: int = 50) -> None:
    """Let the event loop run until ``predicate`` holds (no wall-clock waiting)."""
    for _ in range(turns):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"still false after {turns} turns of the event loop")


def statuses(dag: Dag) -> dict[str, str]:
    return {snap.id: snap.status.value for snap in dag.book.export()}

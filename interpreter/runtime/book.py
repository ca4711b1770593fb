"""The interpreter's book-keeping of node states, and what its status query shows."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from interpreter.contract.run import (
    NodeError,
    NodeSnapshot,
    NodeStatus,
    RunMeta,
    RunSnapshot,
    RunStatus,
)
from interpreter.dsl.definition import Edge, Node
from interpreter.dsl.payloads import payload_bytes


@dataclass
class Stop:
    """Why the run stopped scheduling before the DAG was exhausted."""

    reason: Literal["failed", "succeeded", "cancelled"]
    error: NodeError | None = None
    node: str | None = None
    output: Any = None


class NodeRecord:
    """One node's state: a :class:`NodeSnapshot`'s fields, in slots.

    The book keeps these rather than a pydantic model per node, which took a
    run about 1.2 KiB per node for as long as the worker holds it; the
    snapshots the book hands out are built from them when asked for.
    """

    __slots__ = (
        "attempts",
        "ended_at",
        "error",
        "id",
        "last_error",
        "next_attempt_at",
        "output",
        "progress",
        "reused",
        "started_at",
        "status",
        "type",
    )

    def __init__(self, node_id: str, node_type: str, attempts: int = 0) -> None:
        self.id = node_id
        self.type = node_type
        self.status = NodeStatus.PENDING
        self.attempts = attempts
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.output: Any = None
        self.error: NodeError | None = None
        self.progress: dict[str, Any] | None = None
        self.reused = False
        self.last_error: NodeError | None = None
        self.next_attempt_at: datetime | None = None

    @classmethod
    def of(cls, snapshot: NodeSnapshot) -> NodeRecord:
        """The state a snapshot shows (one carried across continue-as-new)."""
        node = cls(snapshot.id, snapshot.type)
        for name in cls.__slots__:
            setattr(node, name, getattr(snapshot, name))
        return node

    def snapshot(self, output: Any) -> NodeSnapshot:
        """The node as a snapshot, showing ``output`` as its output."""
        return NodeSnapshot(
            id=self.id,
            type=self.type,
            status=self.status,
            attempts=self.attempts,
            started_at=self.started_at,
            ended_at=self.ended_at,
            output=output,
            error=self.error,
            progress=self.progress,
            reused=self.reused,
            last_error=self.last_error,
            next_attempt_at=self.next_attempt_at,
        )


class NodeBook:
    """Every node's status, attempts, timestamps, output and error."""

    def __init__(
        self,
        nodes: Sequence[Node],
        edges: Sequence[Edge],
        max_output_bytes: int,
        max_total_bytes: int = 0,
    ) -> None:
        self._total = max_total_bytes
        self._nodes = {n.id: NodeRecord(n.id, n.type) for n in nodes}
        sources = {edge.source for edge in edges}
        self._sinks = [n.id for n in nodes if n.id not in sources]
        self._cap = max_output_bytes
        # Attempts before the current execution of a node the workflow retries itself.
        self._before: dict[str, int] = {}
        self.ended_at: datetime | None = None
        # Told of each node that ends (its span, while the worker traces).
        self.on_end: Callable[[str, NodeRecord], None] | None = None

    def start(self, node_id: str, now: datetime) -> None:
        """Mark the node running from ``now``."""
        node = self._nodes[node_id]
        node.status = NodeStatus.RUNNING
        node.started_at = now

    def reset(self, node_id: str) -> None:
        """Back to pending, for a retry of a suspended run's failed node."""
        node = self._nodes[node_id]
        self._nodes[node_id] = NodeRecord(node.id, node.type, node.attempts)

    def skip_with(self, node_id: str, output: Any, now: datetime) -> None:
        """An operator skipped a failed node and supplied its output."""
        self._end(node_id, NodeStatus.SKIPPED, 0, now, output=output)

    def progress(self, node_id: str, progress: dict[str, Any]) -> None:
        """Record how far a running node has got (a for_each's items done, total and failed)."""
        self._nodes[node_id].progress = progress

    def export(self) -> list[NodeSnapshot]:
        """Every node's snapshot, for the state carried across continue-as-new."""
        return [node.snapshot(node.output) for node in self._nodes.values()]

    def restore(self, nodes: list[NodeSnapshot]) -> None:
        """Take back the snapshots :meth:`export` gave the previous run."""
        for node in nodes:
            self._nodes[node.id] = NodeRecord.of(node)

    def get(self, node_id: str) -> NodeSnapshot:
        """The node's snapshot as it is now (a copy: changing it changes nothing here)."""
        node = self._nodes[node_id]
        return node.snapshot(node.output)

    def is_active(self, node_id: str) -> bool:
        """Whether the node has started and not ended yet (it runs or waits)."""
        return self._nodes[node_id].status in (
            NodeStatus.RUNNING,
            NodeStatus.WAITING,
            NodeStatus.RETRYING,
        )

    def reused(self, node_id: str) -> None:
        """Mark the node's output as taken from a previous run (``RunInput.reuse``)."""
        self._nodes[node_id].reused = True

    def stats(self) -> dict[str, dict[str, Any]]:
        """Compact per-node outcome for the run's memo (metrics read it from visibility)."""
        out: dict[str, dict[str, Any]] = {}
        for node in self._nodes.values():
            entry: dict[str, Any] = {"s": node.status.value, "a": node.attempts}
            if node.started_at and node.ended_at:
                entry["ms"] = int((node.ended_at - node.started_at).total_seconds() * 1000)
            out[node.id] = entry
        return out

    def retrying(self, node_id: str, failed: int, error: NodeError, due: datetime) -> None:
        """Attempt ``failed`` of the node failed and the next one is due at ``due``.

        For the nodes whose attempts the workflow makes (local activities): the
        node shows as Temporal's pending activities show the others, until it ends.
        """
        node = self._nodes[node_id]
        before = self._before.setdefault(node_id, node.attempts)
        node.status = NodeStatus.RETRYING
        node.attempts = before + failed
        node.last_error = error
        node.next_attempt_at = due

    def attempting(self, node_id: str) -> None:
        """The next attempt of a :meth:`retrying` node began (the running one counts)."""
        node = self._nodes[node_id]
        node.status = NodeStatus.RUNNING
        node.attempts += 1
        node.next_attempt_at = None

    def waiting(self, node_id: str) -> None:
        """Mark the node waiting (on a timer or a signal) rather than running."""
        self._nodes[node_id].status = NodeStatus.WAITING

    def succeed(self, node_id: str, output: Any, attempts: int, now: datetime) -> None:
        """End the node succeeded with ``output``."""
        self._end(node_id, NodeStatus.SUCCEEDED, attempts, now, output=output)

    def fail(self, node_id: str, error: NodeError, attempts: int, now: datetime) -> None:
        """End the node failed with ``error``."""
        self._end(node_id, NodeStatus.FAILED, attempts, now, error=error)

    def cancel(self, node_id: str, now: datetime) -> None:
        """End the node cancelled: the run stopped it before it finished."""
        self._end(node_id, NodeStatus.CANCELLED, 0, now)

    def skip(self, node_id: str) -> None:
        """Mark the node skipped: its ``when`` or its join did not hold."""
        self._nodes[node_id].status = NodeStatus.SKIPPED

    def _end(
        self,
        node_id: str,
        status: NodeStatus,
        attempts: int,
        now: datetime,
        output: Any = None,
        error: NodeError | None = None,
    ) -> None:
        node = self._nodes[node_id]
        node.status = status
        node.attempts = self._before.pop(node_id, node.attempts)
        node.last_error = None
        node.next_attempt_at = None
        # Attempts add up across operator retries of a suspended node.
        node.attempts += attempts
        node.ended_at = now
        node.output = output
        node.error = error
        if self.on_end is not None:
            self.on_end(node_id, node)

    def close_pending(self, *, skipped: bool) -> None:
        """Nodes that never started when the run ended: skipped (by a succeed node) or cancelled."""
        for node in self._nodes.values():
            if node.status == NodeStatus.PENDING:
                node.status = NodeStatus.SKIPPED if skipped else NodeStatus.CANCELLED

    def sink_outputs(self) -> dict[str, Any]:
        """The default run output: each succeeded node without outgoing edges."""
        return {
            node_id: self._nodes[node_id].output
            for node_id in self._sinks
            if self._nodes[node_id].status == NodeStatus.SUCCEEDED
        }

    def snapshot(
        self,
        *,
        status: RunStatus,
        paused: bool,
        meta: RunMeta,
        started_at: datetime,
        output: Any,
        error: NodeError | None,
        suspended_on: str | None = None,
    ) -> RunSnapshot:
        """The run as the ``status`` query shows it, every output capped at ``max_output_bytes``.

        When the capped outputs add up to more than half of ``max_total_bytes``
        (a query's answer is one payload too), each is cut shorter, so the
        answer always fits.
        """
        cap = self._cap
        if self._total:
            sizes = [self._size(node.output) for node in self._nodes.values()]
            sizes.append(self._size(output))
            shown = [min(size, cap) for size in sizes if size]
            budget = self._total // 2
            if sum(shown) > budget:
                cap = max(64, budget // max(1, len(shown)))
        return RunSnapshot(
            status=status,
            paused=paused,
            workflow_id=meta.workflow_id,
            version=meta.version,
            started_at=started_at,
            ended_at=self.ended_at,
            output=self._capped(output, cap),
            error=error,
            suspended_on=suspended_on,
            nodes=[node.snapshot(self._capped(node.output, cap)) for node in self._nodes.values()],
        )

    @staticmethod
    def _size(value: Any) -> int:
        return 0 if value is None else payload_bytes(value)

    def _capped(self, value: Any, cap: int) -> Any:
        if value is None:
            return None
        text = json.dumps(value, separators=(",", ":"), default=str)
        if len(text) <= cap:
            return value
        return {"truncated": True, "bytes": len(text), "preview": text[: cap // 2]}

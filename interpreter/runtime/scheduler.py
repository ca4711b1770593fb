"""DSL scheduling semantics, free of Temporal: edges, joins, skips.

A node becomes ready when every incoming edge is settled. An edge settles when
its source settles, and is *taken* if the source's outcome matches ``on``
(``success``, ``failure``, or ``always`` = either) and its ``when`` holds.
Edges out of a skipped or cancelled node are never taken, so skips propagate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from interpreter.contract.run import NodeStatus
from interpreter.dsl.definition import Edge, Node

EdgeGuard = Callable[[Edge], bool]
"""Evaluates an edge's ``when`` (only called when ``on`` matches)."""

_MATCHES = {
    "success": {NodeStatus.SUCCEEDED},
    "failure": {NodeStatus.FAILED},
    "always": {NodeStatus.SUCCEEDED, NodeStatus.FAILED},
}


class Scheduler:
    """Tracks edge outcomes and tells which nodes become ready."""

    def __init__(self, nodes: Sequence[Node], edges: Sequence[Edge]) -> None:
        self._incoming: dict[str, list[int]] = {n.id: [] for n in nodes}
        self._outgoing: dict[str, list[int]] = {n.id: [] for n in nodes}
        self._edges = list(edges)
        self.taken: list[bool | None] = [None] * len(edges)
        self._join = {n.id: n.join for n in nodes}
        for index, edge in enumerate(edges):
            self._outgoing[edge.source].append(index)
            self._incoming[edge.target].append(index)

    @property
    def edges(self) -> list[Edge]:
        """The edges, in the order of :attr:`taken`."""
        return self._edges

    def roots(self) -> list[str]:
        """The nodes without incoming edges: ready as the DAG starts."""
        return [node for node, edges in self._incoming.items() if not edges]

    def handles_failure(self, node_id: str) -> bool:
        """A failure is handled when the node has an ``on: failure|always`` edge."""
        return any(self._edges[i].on != "success" for i in self._outgoing[node_id])

    def settle(self, node_id: str, status: NodeStatus, guard: EdgeGuard) -> list[str]:
        """Record ``node_id``'s outcome; return the targets that became ready."""
        ready: list[str] = []
        for index in self._outgoing[node_id]:
            edge = self._edges[index]
            self.taken[index] = status in _MATCHES[edge.on] and (edge.when is None or guard(edge))
            target = edge.target
            settled = all(self.taken[i] is not None for i in self._incoming[target])
            if settled and target not in ready:
                ready.append(target)
        return ready

    def join_holds(self, node_id: str) -> bool:
        """Whether the node's ``join`` holds for its taken edges (``all_success`` unless set)."""
        taken = [self.taken[i] for i in self._incoming[node_id]]
        if not taken:
            return True
        join = self._join[node_id]
        if join == "all_done":
            return True
        if join == "any_success":
            return any(taken)
        return all(taken)

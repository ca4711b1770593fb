"""The DAG's shape: adjacency, cycles, ancestors. Used by the validator and the scheduler."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Graph:
    """Directed graph over node ids, in definition order (so iteration is deterministic)."""

    nodes: list[str]
    parents: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> Graph:
        """The graph of ``nodes`` (duplicates once) and ``edges`` between known nodes."""
        graph = cls(list(dict.fromkeys(nodes)))
        for node in graph.nodes:
            graph.parents[node] = []
            graph.children[node] = []
        for source, target in edges:
            if source in graph.children and target in graph.parents:
                graph.children[source].append(target)
                graph.parents[target].append(source)
        return graph

    def roots(self) -> list[str]:
        """Nodes without incoming edges, in definition order."""
        return [n for n in self.nodes if not self.parents[n]]

    def cycles(self) -> list[list[str]]:
        """One representative cycle per strongly connected component (Tarjan)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[list[str]] = []
        counter = 0

        def strongconnect(start: str) -> None:
            nonlocal counter
            # Iterative DFS: definitions may be deep enough to exhaust recursion.
            work = [(start, 0)]
            while work:
                node, child_pos = work.pop()
                if child_pos == 0:
                    index[node] = low[node] = counter
                    counter += 1
                    stack.append(node)
                    on_stack.add(node)
                children = self.children[node]
                if child_pos < len(children):
                    work.append((node, child_pos + 1))
                    child = children[child_pos]
                    if child not in index:
                        work.append((child, 0))
                    elif child in on_stack:
                        low[node] = min(low[node], index[child])
                    continue
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in self.children[node]:
                        found.append(self._cycle_path(set(component), node))

        for node in self.nodes:
            if node not in index:
                strongconnect(node)
        return found

    def _cycle_path(self, component: set[str], start: str) -> list[str]:
        """A concrete cycle ``start -> ... -> start`` inside one component."""
        path, seen, node = [start], {start}, start
        while True:
            nxt = next(c for c in self.children[node] if c in component)
            if nxt == start or nxt in seen:
                path.append(nxt)
                return path[path.index(nxt) :]
            path.append(nxt)
            seen.add(nxt)
            node = nxt

    def reachable_from_roots(self) -> set[str]:
        """Every node some root leads to (nodes on a cycle with no way in are missing)."""
        seen: set[str] = set()
        todo = self.roots()
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(self.children[node])
        return seen

    def ancestors(self) -> dict[str, frozenset[str]]:
        """Every node's ancestors: the nodes with a path to it.

        Also defined when there are cycles (a node on a cycle is its own
        ancestor), so expressions can still be checked in a cyclic definition.
        """
        memo: dict[str, frozenset[str]] = {}
        waiting = {node: len(set(self.parents[node])) for node in self.nodes}
        ready = [node for node in self.nodes if waiting[node] == 0]
        while ready:  # Kahn's order: every parent is done before its children
            node = ready.pop()
            acc: set[str] = set()
            for parent in self.parents[node]:
                acc.add(parent)
                acc |= memo[parent]
            memo[node] = frozenset(acc)
            for child in dict.fromkeys(self.children[node]):
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        for node in self.nodes:
            if node not in memo:  # on a cycle or downstream of one
                memo[node] = frozenset(self._reaching(node))
        return {node: memo[node] for node in self.nodes}

    def _reaching(self, target: str) -> set[str]:
        seen: set[str] = set()
        todo = list(self.parents[target])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(self.parents[node])
        return seen

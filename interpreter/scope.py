"""Expression variables: what each expression may read, built incrementally.

Only the nodes an expression references are put in its ``nodes`` map, so the
cost of an evaluation does not grow with the number of nodes in the run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from interpreter.definition import Node
from interpreter.expressions import node_references
from interpreter.templates import iter_holes


def template_references(value: Any) -> frozenset[str]:
    """Node ids read by any hole of a JSON template."""
    refs: set[str] = set()
    for _path, hole in iter_holes(value):
        refs |= node_references(hole.source) or frozenset()
    return frozenset(refs)


def expression_references(sources: Iterable[str | None]) -> frozenset[str]:
    refs: set[str] = set()
    for source in sources:
        if source:
            refs |= node_references(source) or frozenset()
    return frozenset(refs)


def node_reads(node: Node, cel_sources: Iterable[str]) -> frozenset[str]:
    """Every node id that ``node``'s guard, config and output mapping read."""
    return (
        expression_references([node.when, *cel_sources])
        | template_references(node.config)
        | template_references(node.output)
    )


class Scope:
    """The run-wide variables plus each settled node's ``{output, status, error}``."""

    def __init__(self, run_input: Any, run: dict[str, Any]) -> None:
        self.input = run_input
        self.run = run
        self.nodes: dict[str, dict[str, Any]] = {}

    def record(self, node_id: str, status: str, output: Any, error: Any) -> None:
        self.nodes[node_id] = {"output": output, "status": status, "error": error}

    def variables(self, reads: Iterable[str], **extra: Any) -> dict[str, Any]:
        pending = {"output": None, "status": "pending", "error": None}
        return {
            "input": self.input,
            "run": self.run,
            "nodes": {node_id: self.nodes.get(node_id, pending) for node_id in reads},
            **extra,
        }

"""Expression variables: what each expression may read, built incrementally.

Only the nodes an expression references are put in its ``nodes`` map, so the
cost of an evaluation does not grow with the number of nodes in the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from interpreter.dsl.definition import Node
from interpreter.dsl.expressions import LIMITS, ExpressionLimits, node_references
from interpreter.dsl.holes import iter_holes

PENDING = {"output": None, "status": "pending", "error": None}


def template_references(value: Any) -> frozenset[str]:
    """Node ids read by any hole of a JSON template."""
    refs: set[str] = set()
    for _path, hole in iter_holes(value):
        refs |= node_references(hole.source) or frozenset()
    return frozenset(refs)


def expression_references(sources: Iterable[str | None]) -> frozenset[str]:
    """Node ids read by any of these CEL expressions (None and empty ones read none)."""
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
    """The run-wide variables plus each settled node's ``{output, status, error}``.

    A for_each item's scope has the run's scope as ``parent``: body nodes are
    looked up first, then the nodes outside the loop. Every variables mapping
    carries the run's expression limits (``LIMITS``), inherited from ``parent``.
    """

    def __init__(
        self,
        run_input: Any,
        run: dict[str, Any],
        *,
        parent: Scope | None = None,
        extra: Mapping[str, Any] | None = None,
        outer: Mapping[str, dict[str, Any]] | None = None,
        limits: ExpressionLimits | None = None,
    ) -> None:
        self.input = run_input
        self.run = run
        self.parent = parent
        self.extra = dict(extra or {})
        self.nodes: dict[str, dict[str, Any]] = {}
        self._outer = dict(outer or {})
        self.limits: ExpressionLimits = limits or (
            parent.limits if parent is not None else ExpressionLimits()
        )
        self._carried = self.limits.carried()

    def record(self, node_id: str, status: str, output: Any, error: Any) -> None:
        """Keep a settled node's ``{output, status, error}`` for the expressions that read it."""
        self.nodes[node_id] = {"output": output, "status": status, "error": error}

    def forget(self, node_id: str) -> None:
        """Drop the node's entry, so it reads as pending again (an operator's retry)."""
        self.nodes.pop(node_id, None)

    def lookup(self, node_id: str) -> dict[str, Any]:
        """The node's ``{output, status, error}``, here or outside the loop, else pending."""
        found = self.nodes.get(node_id) or self._outer.get(node_id)
        if found is not None:
            return found
        return self.parent.lookup(node_id) if self.parent is not None else PENDING

    def variables(self, reads: Iterable[str], **extra: Any) -> dict[str, Any]:
        """What an expression reading the nodes ``reads`` sees, plus ``extra``."""
        return {
            "input": self.input,
            "run": self.run,
            "nodes": {node_id: self.lookup(node_id) for node_id in reads},
            **self.extra,
            **extra,
            LIMITS: self._carried,
        }

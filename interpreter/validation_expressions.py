"""Save-time checks of every expression: syntax, names, and node references."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from interpreter.definition import Edge, Node
from interpreter.errors import ExpressionSyntaxError
from interpreter.expressions import ROOT_NAMES, compile_expression, node_references, root_names
from interpreter.graph import Graph
from interpreter.issues import ValidationIssue
from interpreter.nodes.registry import NodeKind
from interpreter.templates import Hole, parse_template

_BASE = frozenset({"input", "nodes", "run"})
_WHERE_VISIBLE = {
    "result": "only in a node's own 'output' mapping",
    "secrets": "only inside the config of an activity node (http, log, validate, ...)",
    "data": "only in a validate node's rules",
    "item": "only inside a for_each body",
    "index": "only inside a for_each body",
}


def holes(value: Any, path: str) -> Iterator[tuple[str, Hole | ExpressionSyntaxError]]:
    """Every hole of a JSON template with its JSON pointer; unparsable strings as errors."""
    if isinstance(value, str):
        if "{{" in value:
            try:
                segments = parse_template(value)
            except ExpressionSyntaxError as exc:
                yield path, exc
                return
            for segment in segments:
                if isinstance(segment, Hole):
                    yield path, segment
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from holes(item, f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from holes(item, f"{path}/{index}")


class ExpressionChecker:
    """Checks expressions against the graph: names exist and are visible where used."""

    def __init__(self, graph: Graph, ids: Collection[str], *, acyclic: bool) -> None:
        self._ids = set(ids)
        self._ancestors = graph.ancestors() if acyclic else None

    def check_node(self, index: int, node: Node, kind: NodeKind | None) -> list[ValidationIssue]:
        base = f"/nodes/{index}"
        visible = self._upstream(node.id)
        issues: list[ValidationIssue] = []
        if node.when is not None:
            issues += self.check_expression(node.when, f"{base}/when", _BASE, visible)
        if kind is not None:
            cel_fields = kind.cel_fields(node.config)
            for path, source in cel_fields:
                issues += self.check_expression(
                    source, f"{base}/config{path}", _BASE | {"data"}, visible
                )
            roots = _BASE | {"secrets"} if kind.runs_as == "activity" else _BASE
            skip = {f"{base}/config{path}" for path, _ in cel_fields}
            issues += self.check_template(node.config, f"{base}/config", roots, visible, skip)
        issues += self.check_template(node.output, f"{base}/output", _BASE | {"result"}, visible)
        return issues

    def check_edge(self, index: int, edge: Edge) -> list[ValidationIssue]:
        if edge.when is None:
            return []
        visible = self._upstream(edge.source)
        if visible is not None:
            visible = visible | {edge.source}
        return self.check_expression(edge.when, f"/edges/{index}/when", _BASE, visible)

    def check_template(
        self,
        value: Any,
        path: str,
        roots: frozenset[str] = _BASE,
        visible: frozenset[str] | None = None,
        skip: Collection[str] = (),
    ) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        for where, hole in holes(value, path):
            if where in skip:
                continue
            if isinstance(hole, ExpressionSyntaxError):
                issues.append(ValidationIssue(path=where, code="bad_expression", message=str(hole)))
            else:
                issues += self.check_expression(hole.source, where, roots, visible, hole.offset)
        return issues

    def _upstream(self, node_id: str) -> frozenset[str] | None:
        if self._ancestors is None:
            return None
        return self._ancestors.get(node_id, frozenset())

    def check_expression(
        self,
        source: str,
        path: str,
        roots: frozenset[str],
        visible: frozenset[str] | None,
        column_offset: int = 0,
    ) -> list[ValidationIssue]:
        """Check one bare CEL expression read at ``path``.

        ``visible`` is the set of node ids whose values are ready there (None:
        unknown because the graph has a cycle, so only existence is checked).
        """
        try:
            compile_expression(source)
        except ExpressionSyntaxError as exc:
            where = ""
            if exc.position is not None:
                line, column = exc.position
                column += column_offset if line == 1 else 0
                where = f" (line {line}, column {column})"
            return [ValidationIssue(path=path, code="bad_expression", message=f"{exc}{where}")]
        issues: list[ValidationIssue] = []

        def add(code: str, message: str) -> None:
            issues.append(ValidationIssue(path=path, code=code, message=message))

        names = root_names(source)
        for name in sorted(names - ROOT_NAMES):
            add(
                "unknown_name",
                f"unknown name {name!r} in {source!r}; expressions start from "
                + ", ".join(sorted(ROOT_NAMES)),
            )
        for name in sorted((names & ROOT_NAMES) - roots):
            add("misplaced_name", f"{name!r} is not visible here: {_WHERE_VISIBLE.get(name, '')}")
        if "secrets" in names and names - {"secrets"}:
            add(
                "misplaced_name",
                f"{source!r}: a hole that reads secrets may read nothing else, "
                "so secret values never enter the run history",
            )
        refs = node_references(source)
        if refs is None:
            add(
                "dynamic_reference",
                f"{source!r}: name nodes literally: nodes.<id> or nodes['<id>']",
            )
            return issues
        for ref in sorted(refs):
            if ref not in self._ids:
                add(
                    "unknown_reference", f"{source!r} reads nodes.{ref}, but no node has id {ref!r}"
                )
            elif visible is not None and ref not in visible:
                add(
                    "not_upstream",
                    f"{source!r} reads nodes.{ref}, which is not upstream here, "
                    "so its value is not ready yet; add an edge from it",
                )
        return issues

"""Save-time checks of every expression: syntax, names, and node references."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any

from interpreter.dsl.definition import Edge, Node
from interpreter.dsl.expressions import (
    DEFAULT_COST_LIMIT,
    FUNCTIONS,
    OPTIONAL_FUNCTIONS,
    ROOT_NAMES,
    WHOLE_SECRET_RULE,
    compile_expression,
    expression_cost,
    node_references,
    quoted,
    root_names,
    unknown_functions,
    whole_secret,
)
from interpreter.dsl.graph import Graph
from interpreter.dsl.holes import Hole, iter_strings, line_and_column, parse_template
from interpreter.errors import ExpressionSyntaxError
from interpreter.nodes import NodeKind
from interpreter.validation.issues import ValidationIssue

_BASE = frozenset({"input", "nodes", "run"})
_SECRETS = "secrets"
_WHERE_VISIBLE = {
    "result": "only in a node's own 'output' mapping",
    "secrets": "only inside the config of an http or webhook node, "
    "as a whole hole {{ secrets.NAME }} (alone or inside a string); "
    "never in when, edges, output, bare-CEL fields or other node types",
    "data": "only in a validate node's rules",
    "item": "only inside a for_each body",
    "index": "only inside a for_each body",
}


class ExpressionChecker:
    """Checks expressions against one DAG: names exist and are visible where used.

    Args:
        graph: The DAG (the definition's, or a for_each body).
        ids: Every node id an expression here may name (this DAG's and the
            enclosing DAGs').
        prefix: JSON pointer of the DAG's object (``""`` for the definition).
        outer: Nodes of enclosing DAGs that are done before this DAG starts.
        loop_names: Extra root names visible everywhere in this DAG
            (``item``, ``index`` in a for_each body).
    """

    def __init__(
        self,
        graph: Graph,
        ids: Collection[str],
        *,
        prefix: str = "",
        outer: frozenset[str] = frozenset(),
        loop_names: frozenset[str] = frozenset(),
        cost_limit: int = DEFAULT_COST_LIMIT,
    ) -> None:
        self._ids = set(ids)
        self._ancestors = graph.ancestors()
        self._prefix = prefix
        self._outer = outer
        self._base = _BASE | loop_names
        self._cost_limit = cost_limit

    def ready_before(self, node_id: str) -> frozenset[str]:
        """Nodes whose values are ready when ``node_id`` starts: its ancestors and ``outer``."""
        return self._ancestors.get(node_id, frozenset()) | self._outer

    def check_node(self, index: int, node: Node, kind: NodeKind | None) -> list[ValidationIssue]:
        """The node's guard, its config (if its type is known) and its output mapping."""
        base = f"{self._prefix}/nodes/{index}"
        visible = self.ready_before(node.id)
        issues: list[ValidationIssue] = []
        if node.when is not None:
            issues += self.check_expression(node.when, f"{base}/when", self._base, visible)
        if kind is not None:
            cel_fields = kind.cel_fields(node.config)
            cel_roots = self._base | kind.cel_names
            for path, source in cel_fields:
                issues += self.check_expression(source, f"{base}/config{path}", cel_roots, visible)
            roots = self._base | {"secrets"} if kind.reads_secrets else self._base
            skip = {f"{base}/config{path}" for path, _ in cel_fields}
            # A nested DAG is checked as a DAG of its own.
            skip |= {f"{base}/config/{sub.field}" for sub in kind.sub_dag_fields}
            issues += self.check_template(node.config, f"{base}/config", roots, visible, skip)
        issues += self.check_template(
            node.output, f"{base}/output", self._base | {"result"}, visible
        )
        return issues

    def check_edge(self, index: int, edge: Edge) -> list[ValidationIssue]:
        """An edge's ``when`` sees its source and the source's ancestors."""
        if edge.when is None:
            return []
        visible = self.ready_before(edge.source) | {edge.source}
        path = f"{self._prefix}/edges/{index}/when"
        return self.check_expression(edge.when, path, self._base, visible)

    def check_output(self, value: Any) -> list[ValidationIssue]:
        """The DAG's ``output``: read when every node is done (the definition's: any node)."""
        visible = None if not self._prefix else frozenset(self._ancestors) | self._outer
        return self.check_template(value, f"{self._prefix}/output", self._base, visible)

    def check_template(
        self,
        value: Any,
        path: str,
        roots: frozenset[str] = _BASE,
        visible: frozenset[str] | None = None,
        skip: Collection[str] = (),
    ) -> list[ValidationIssue]:
        """The issues of every hole of the JSON template ``value`` at JSON pointer ``path``.

        Strings at or under a pointer in ``skip`` are not checked.
        """
        issues: list[ValidationIssue] = []
        for where, text in iter_strings(value, path):
            if any(where == s or where.startswith(s + "/") for s in skip):
                continue
            try:
                segments = parse_template(text)
            except ExpressionSyntaxError as exc:
                message = f"{exc}{_position(exc.position)}"
                issues.append(ValidationIssue(path=where, code="bad_expression", message=message))
                continue
            for hole in segments:
                if isinstance(hole, Hole):
                    issues += self.check_expression(
                        hole.source, where, roots, visible, template=(text, hole.offset)
                    )
        return issues

    def check_expression(
        self,
        source: str,
        path: str,
        roots: frozenset[str],
        visible: frozenset[str] | None,
        template: tuple[str, int] | None = None,
    ) -> list[ValidationIssue]:
        """Check one bare CEL expression read at ``path``.

        Args:
            source: The expression.
            path: JSON pointer of the string that holds it.
            roots: The root names visible there.
            visible: Node ids whose values are ready there (None: every node).
            template: For a hole, the template string and the hole's offset in
                it, so positions count from the start of the string.
        """
        try:
            compile_expression(source)
        except ExpressionSyntaxError as exc:
            position = exc.position
            if position is not None and template is not None:
                position = _in_template(source, position, *template)
            message = f"{exc}{_position(position)}"
            return [ValidationIssue(path=path, code="bad_expression", message=message)]
        issues: list[ValidationIssue] = []

        def add(code: str, message: str) -> None:
            issues.append(ValidationIssue(path=path, code=code, message=message))

        for name in sorted(unknown_functions(source)):
            add("unknown_function", f"{quoted(source)} calls {name}(), {_function_hint(name)}")
        names = root_names(source)
        for name in sorted(names - ROOT_NAMES):
            add(
                "unknown_name",
                f"unknown name {name!r} in {quoted(source)}; here an expression starts from "
                + ", ".join(sorted(roots)),
            )
        for name in sorted((names & ROOT_NAMES) - roots):
            add("misplaced_name", f"{name!r} is not visible here: {_WHERE_VISIBLE.get(name, '')}")
        if _SECRETS in names and _SECRETS in roots:
            if names - {_SECRETS}:
                add(
                    "misplaced_name",
                    f"{quoted(source)}: a hole that reads secrets may read nothing else, "
                    "so secret values never enter the run history; use one hole per secret: "
                    + WHOLE_SECRET_RULE,
                )
            elif template is None or whole_secret(source) is None:
                # A function of a secret (bytes, size, matches, ...) hands back a
                # derived value the masker cannot recognise, or answers questions
                # about the value: an oracle.
                add("secret_in_expression", f"{quoted(source)}: {WHOLE_SECRET_RULE}")
        # Priced with nothing known of its variables: the least it can cost.
        # A run prices it with their values, never lower, so over the limit
        # here means refused on every run.
        least = expression_cost(source, {})
        if least > self._cost_limit:
            add(
                "too_costly",
                f"{quoted(source)} would cost at least {least:,.0f} units, whatever its "
                f"variables hold; runs refuse expressions over {self._cost_limit:,} "
                "(FLOWFORGE_EXPRESSION_COST_LIMIT) with ExpressionTooCostly: nest fewer "
                "map/filter/all/exists, or over shorter lists",
            )
        refs = node_references(source)
        if refs is None:
            add(
                "dynamic_reference",
                f"{quoted(source)}: name nodes literally: nodes.<id> or nodes['<id>']",
            )
            return issues
        for ref in sorted(refs):
            if ref not in self._ids:
                add(
                    "unknown_reference",
                    f"{quoted(source)} reads nodes.{ref}, but no node has id {ref!r}",
                )
            elif visible is not None and ref not in visible:
                add(
                    "not_upstream",
                    f"{quoted(source)} reads nodes.{ref}, which is not upstream here, "
                    f"so its value is not ready yet; add an edge path from {ref!r}",
                )
        return issues


def _function_hint(name: str) -> str:
    """What to say of an unknown function: the one meant, or what there is."""
    close = difflib.get_close_matches(name, sorted(FUNCTIONS), n=1, cutoff=0.7)
    if close:
        return f"which CEL here does not have; did you mean {close[0]}()?"
    offered = ", ".join(sorted(FUNCTIONS - OPTIONAL_FUNCTIONS))
    return (
        f"which CEL here does not have; it has {offered} (and the optional.* functions); "
        "anything else, in a script node"
    )


def _position(position: tuple[int, int] | None) -> str:
    return "" if position is None else f" (line {position[0]}, column {position[1]})"


def _in_template(source: str, position: tuple[int, int], text: str, offset: int) -> tuple[int, int]:
    """``position`` in a hole's ``source`` as a position in the template ``text``."""
    line, column = position
    before = sum(len(part) + 1 for part in source.split("\n")[: line - 1])
    return line_and_column(text, offset + before + column - 1)

"""Checking one DAG of a definition (the top level, or a for_each body) as a whole.

The checks cover ids, types, edges, shape, node configs and every expression,
nested bodies included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from interpreter.dsl.definition import Edge, Node
from interpreter.dsl.expressions import DEFAULT_COST_LIMIT
from interpreter.dsl.graph import Graph
from interpreter.nodes import NodeKind, SubDagField, kind_of, known_types
from interpreter.validation.configs import check_config
from interpreter.validation.expressions import ExpressionChecker
from interpreter.validation.hints import type_hint
from interpreter.validation.issues import ValidationIssue, pydantic_issues

M = TypeVar("M", bound=BaseModel)


def _parse_each(items: Any, model: type[M]) -> list[tuple[int, M]]:
    """Each item parsed without its invalid fields, which are reported already.

    One bad field then neither hides the item's other problems nor makes the
    item look missing.
    """
    if not isinstance(items, list):
        return []
    parsed: list[tuple[int, M]] = []
    for index, item in enumerate(items):
        try:
            parsed.append((index, model.model_validate(item)))
        except ValidationError as exc:
            bad = {error["loc"][0] for error in exc.errors() if error["loc"]}
            if not isinstance(item, dict) or not bad:
                continue
            try:
                rest = {key: value for key, value in item.items() if key not in bad}
                parsed.append((index, model.model_validate(rest)))
            except ValidationError:
                continue
    return parsed


def _node_ids(raw_nodes: Any) -> dict[str, int]:
    """Every node's id (even a node with other errors) -> the index of its first use."""
    ids: dict[str, int] = {}
    if isinstance(raw_nodes, list):
        for index, item in enumerate(raw_nodes):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                ids.setdefault(item["id"], index)
    return ids


@dataclass(frozen=True)
class Frame:
    """Where a DAG sits: the definition itself, or a for_each body inside it.

    Attributes:
        path: JSON pointer of the object holding the DAG's nodes and edges.
        outer_ids: Ids of the enclosing DAGs' nodes -> their JSON pointers.
        outer: Enclosing nodes that are done before this DAG starts.
        loop_names: Root names visible only in here (``item``, ``index``).
        cost_limit: The expression cost limit runs will have: an expression
            over it with nothing known of its variables is refused at save.
    """

    path: str = ""
    outer_ids: Mapping[str, str] = field(default_factory=dict)
    outer: frozenset[str] = frozenset()
    loop_names: frozenset[str] = frozenset()
    cost_limit: int = DEFAULT_COST_LIMIT


def dag_issues(
    raw_nodes: Any, raw_edges: Any, output: tuple[Any] | None, frame: Frame
) -> list[ValidationIssue]:
    """Ids, types, edges, shape, configs and expressions of one DAG (and its bodies).

    Args:
        raw_nodes: The DAG's ``nodes`` as submitted.
        raw_edges: The DAG's ``edges`` as submitted.
        output: The DAG's ``output`` template in a 1-tuple; None if it has none
            (a ``null`` output is still an output).
        frame: Where the DAG sits.
    """
    nodes = _parse_each(raw_nodes, Node)
    edges = _parse_each(raw_edges, Edge)
    ids = _node_ids(raw_nodes)
    issues = _id_issues(raw_nodes, ids, frame)
    for index, node in nodes:
        if kind_of(node.type) is None:
            issues.append(
                ValidationIssue(
                    path=f"{frame.path}/nodes/{index}/type",
                    code="unknown_type",
                    message=f"unknown node type {node.type!r}; "
                    f"{type_hint(node.type, known_types())}known: {', '.join(known_types())}",
                )
            )
    for index, edge in edges:
        for end_field, end in (("from", edge.source), ("to", edge.target)):
            if end not in ids:
                issues.append(
                    ValidationIssue(
                        path=f"{frame.path}/edges/{index}/{end_field}",
                        code="unknown_node",
                        message=f"edge {end_field} {end!r}: no node "
                        + ("of this for_each body " if frame.path else "")
                        + "has that id",
                    )
                )
    graph = Graph.build(ids, [(e.source, e.target) for _, e in edges])
    issues += _shape_issues(graph, edges, ids, frame.path)
    checker = ExpressionChecker(
        graph,
        [*ids, *frame.outer_ids],
        prefix=frame.path,
        outer=frame.outer,
        loop_names=frame.loop_names,
        cost_limit=frame.cost_limit,
    )
    for index, node in nodes:
        kind = kind_of(node.type)
        if kind is not None:
            issues += check_config(kind, node.config, f"{frame.path}/nodes/{index}/config")
            issues += _body_issues(kind, node, index, frame, ids, checker)
            issues += _execution_issues(kind, node, f"{frame.path}/nodes/{index}/execution")
        issues += checker.check_node(index, node, kind)
    for index, edge in edges:
        issues += checker.check_edge(index, edge)
    if output is not None:
        issues += checker.check_output(output[0])
    return issues


def _execution_issues(kind: NodeKind, node: Node, path: str) -> list[ValidationIssue]:
    """A node's ``execution: "local"`` that it could never have (it would silently not apply)."""
    if node.execution != "local":
        return []
    if not kind.local:
        runs = "always runs as a regular activity" if kind.activity else "runs in the workflow"
        message = (
            f"node {node.id!r}: a {node.type} node {runs}; only http, webhook, log and "
            "validate nodes may run as local activities"
        )
    elif node.task_queue:
        message = (
            f"node {node.id!r}: a node routed to task_queue {node.task_queue!r} runs on that "
            "queue's workers, so it cannot be a local activity; drop one of the two"
        )
    else:
        return []
    return [ValidationIssue(path=path, code="invalid", message=message)]


def _body_issues(
    kind: NodeKind,
    node: Node,
    index: int,
    frame: Frame,
    ids: dict[str, int],
    checker: ExpressionChecker,
) -> list[ValidationIssue]:
    """Each nested DAG of the node (a for_each body), checked like the definition's."""
    issues: list[ValidationIssue] = []
    for sub in kind.sub_dag_fields:
        issues += _sub_dag_issues(sub, node, f"{frame.path}/nodes/{index}", frame, ids, checker)
    return issues


def _sub_dag_issues(
    sub: SubDagField,
    node: Node,
    node_path: str,
    frame: Frame,
    ids: dict[str, int],
    checker: ExpressionChecker,
) -> list[ValidationIssue]:
    """The issues of one nested DAG: its shape and limits, then its nodes, edges and output.

    Its expressions may read ``sub.names`` and the enclosing nodes that are done
    before the node holding it starts.
    """
    body = node.config.get(sub.field)
    if not isinstance(body, dict):
        return []  # absent or not an object: reported by the config check
    path = f"{node_path}/config/{sub.field}"
    issues: list[ValidationIssue] = []
    try:
        sub.model.model_validate(body)
    except ValidationError as exc:
        issues += pydantic_issues(exc, path, value=body)
    inner = Frame(
        path=path,
        outer_ids={**frame.outer_ids, **{i: f"{frame.path}/nodes/{n}" for i, n in ids.items()}},
        outer=checker.ready_before(node.id),
        loop_names=frame.loop_names | sub.names,
        cost_limit=frame.cost_limit,
    )
    output = (body["output"],) if "output" in body else None
    return issues + dag_issues(body.get("nodes"), body.get("edges"), output, inner)


def _id_issues(raw_nodes: Any, ids: dict[str, int], frame: Frame) -> list[ValidationIssue]:
    """Ids used twice in one DAG, or that hide a node of an enclosing DAG."""
    issues: list[ValidationIssue] = []
    for index, item in enumerate(raw_nodes if isinstance(raw_nodes, list) else []):
        node_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(node_id, str):
            continue
        if ids[node_id] != index:
            first = f"{frame.path}/nodes/{ids[node_id]}"
        elif node_id in frame.outer_ids:
            first = f"{frame.outer_ids[node_id]} outside this for_each body"
        else:
            continue
        issues.append(
            ValidationIssue(
                path=f"{frame.path}/nodes/{index}/id",
                code="duplicate_id",
                message=f"node id {node_id!r} is already used by {first}; "
                "ids must be unique so that nodes.<id> names one node",
            )
        )
    return issues


def _shape_issues(
    graph: Graph, edges: list[tuple[int, Edge]], ids: dict[str, int], prefix: str
) -> list[ValidationIssue]:
    """Cycles (at the edge that closes each one) and nodes only reachable through one."""
    issues: list[ValidationIssue] = []
    in_cycle: set[str] = set()
    for cycle in graph.cycles():
        in_cycle.update(cycle)
        closing = next(i for i, e in edges if (e.source, e.target) == (cycle[-2], cycle[-1]))
        issues.append(
            ValidationIssue(
                path=f"{prefix}/edges/{closing}",
                code="cycle",
                message="cycle: " + " -> ".join(cycle) + "; a workflow must be a DAG, "
                "so remove one of these edges",
            )
        )
    reachable = graph.reachable_from_roots()
    for node_id, index in ids.items():
        if node_id not in reachable and node_id not in in_cycle:
            issues.append(
                ValidationIssue(
                    path=f"{prefix}/nodes/{index}",
                    code="unreachable",
                    message=f"node {node_id!r} can never run: it is only reachable through a cycle",
                )
            )
    return issues

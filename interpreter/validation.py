"""Definition validation: every problem at once, each with a JSON pointer and a code.

Codes: ``too_large``, ``too_many_nodes``, ``invalid`` (shape/type), ``required``,
``unknown_field``, ``bad_duration``, ``unknown_type``, ``duplicate_id``,
``unknown_node`` (edge endpoint), ``cycle``, ``unreachable``, ``bad_expression``,
``unknown_name``, ``unknown_reference``, ``not_upstream``, ``dynamic_reference``,
``misplaced_name``, ``invalid_config``, ``invalid_schema``.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, Field, ValidationError

from interpreter.definition import Definition, Edge, Node
from interpreter.graph import Graph
from interpreter.issues import ValidationIssue
from interpreter.nodes.registry import kind_of, known_types
from interpreter.validation_configs import check_config
from interpreter.validation_expressions import ExpressionChecker


class Limits(BaseModel):
    """Size limits a definition must respect (server settings)."""

    max_nodes: int = Field(default=500, ge=1)
    max_definition_bytes: int = Field(default=262_144, ge=1024)


def validate_definition(
    raw: Any, limits: Limits | None = None
) -> tuple[Definition | None, list[ValidationIssue]]:
    """Validate a definition; return it parsed (None if invalid) and every issue."""
    limits = limits or Limits()
    size = len(json.dumps(raw, separators=(",", ":")).encode())
    if size > limits.max_definition_bytes:
        return None, [
            ValidationIssue(
                path="",
                code="too_large",
                message=f"definition is {size} bytes; the limit is {limits.max_definition_bytes}",
            )
        ]
    if not isinstance(raw, dict):
        return None, [ValidationIssue(path="", code="invalid", message="must be a JSON object")]
    issues: list[ValidationIssue] = []
    definition: Definition | None = None
    try:
        definition = Definition.model_validate(raw)
    except ValidationError as exc:
        issues += pydantic_issues(exc)
    nodes = _parse_each(raw.get("nodes"), Node)
    edges = _parse_each(raw.get("edges"), Edge)
    issues += _semantic_issues(raw, nodes, edges, limits)
    return (definition if not issues else None), issues


M = TypeVar("M", bound=BaseModel)


def _parse_each(items: Any, model: type[M]) -> list[tuple[int, M]]:
    if not isinstance(items, list):
        return []
    parsed: list[tuple[int, M]] = []
    for index, item in enumerate(items):
        try:
            parsed.append((index, model.model_validate(item)))
        except ValidationError:
            pass  # already reported by the whole-document parse
    return parsed


def pydantic_issues(exc: ValidationError, prefix: str = "") -> list[ValidationIssue]:
    issues = []
    for error in exc.errors():
        path = prefix + "".join(f"/{part}" for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        code = {
            "missing": "required",
            "extra_forbidden": "unknown_field",
        }.get(error["type"], "invalid")
        if "bad duration" in message:
            code = "bad_duration"
        issues.append(ValidationIssue(path=path, code=code, message=message))
    return issues


def _semantic_issues(
    raw: dict[str, Any],
    nodes: list[tuple[int, Node]],
    edges: list[tuple[int, Edge]],
    limits: Limits,
) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    if isinstance(raw.get("nodes"), list) and len(raw["nodes"]) > limits.max_nodes:
        issues.append(
            ValidationIssue(
                path="/nodes",
                code="too_many_nodes",
                message=f"{len(raw['nodes'])} nodes; the limit is {limits.max_nodes}",
            )
        )
    ids: dict[str, int] = {}
    for index, node in nodes:
        if node.id in ids:
            issues.append(
                ValidationIssue(
                    path=f"/nodes/{index}/id",
                    code="duplicate_id",
                    message=f"node id {node.id!r} is already used by /nodes/{ids[node.id]}",
                )
            )
        else:
            ids[node.id] = index
        if kind_of(node.type) is None:
            issues.append(
                ValidationIssue(
                    path=f"/nodes/{index}/type",
                    code="unknown_type",
                    message=f"unknown node type {node.type!r}; known: {', '.join(known_types())}",
                )
            )
    for index, edge in edges:
        for field, end in (("from", edge.source), ("to", edge.target)):
            if end not in ids:
                issues.append(
                    ValidationIssue(
                        path=f"/edges/{index}/{field}",
                        code="unknown_node",
                        message=f"edge {field} {end!r}: no node has that id",
                    )
                )
    graph = Graph.build(ids, [(e.source, e.target) for _, e in edges])
    in_cycle: set[str] = set()
    for cycle in graph.cycles():
        in_cycle.update(cycle)
        issues.append(
            ValidationIssue(
                path="/edges",
                code="cycle",
                message="cycle: " + " -> ".join(cycle) + " (a workflow must be a DAG)",
            )
        )
    reachable = graph.reachable_from_roots()
    for node_id, index in ids.items():
        if node_id not in reachable and node_id not in in_cycle:
            issues.append(
                ValidationIssue(
                    path=f"/nodes/{index}",
                    code="unreachable",
                    message=f"node {node_id!r} can never run: it is only reachable through a cycle",
                )
            )
    checker = ExpressionChecker(graph, ids.keys(), acyclic=not in_cycle)
    for index, node in nodes:
        kind = kind_of(node.type)
        if kind is not None:
            issues += check_config(kind, node.config, f"/nodes/{index}/config")
        issues += checker.check_node(index, node, kind)
    for index, edge in edges:
        issues += checker.check_edge(index, edge)
    if "output" in raw:
        issues += checker.check_template(raw["output"], "/output")
    issues += _schema_issues(raw.get("input_schema"), "/input_schema")
    return issues


def _schema_issues(schema: Any, path: str) -> list[ValidationIssue]:
    if not isinstance(schema, dict):
        return []
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = path + "".join(f"/{p}" for p in exc.path)
        return [ValidationIssue(path=where, code="invalid_schema", message=exc.message)]
    return []

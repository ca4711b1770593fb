"""Definition validation: every problem at once, each with a JSON pointer and a code.

Codes: ``too_large`` (bytes or nesting depth), ``too_many_nodes``, ``invalid``
(shape/type), ``required``, ``unknown_field``, ``bad_duration``,
``unknown_type``, ``duplicate_id``, ``unknown_node`` (edge endpoint),
``cycle``, ``unreachable``, ``bad_expression``, ``unknown_name``,
``unknown_reference``, ``not_upstream``, ``dynamic_reference``,
``misplaced_name``, ``invalid_config``, ``invalid_schema``, ``over_limit``
(a wait, signal timeout or literal for_each list past its limit).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from interpreter.dsl.definition import Definition
from interpreter.dsl.expressions import DEFAULT_COST_LIMIT
from interpreter.dsl.pointer import pointer
from interpreter.validation.configs import schema_issues
from interpreter.validation.dag import Frame, dag_issues
from interpreter.validation.hints import with_hints
from interpreter.validation.issues import ValidationIssue, pydantic_issues
from interpreter.validation.limits import limit_issues
from interpreter.validation.triggers import trigger_issues

__all__ = ["Limits", "ValidationIssue", "pydantic_issues", "validate_definition"]


class Limits(BaseModel):
    """Size limits a definition must respect (server settings).

    Attributes:
        max_nodes: Most nodes a definition may have.
        max_definition_bytes: Most bytes of the definition as compact UTF-8 JSON.
        max_depth: Most levels of nested objects and lists (deep nesting only
            serves to exhaust the stack of whoever walks the document).
        max_wait: Longest ``wait`` duration, and how far ahead its ``until``
            may be (None: no limit; the API passes its quota).
        max_signal_timeout: Longest ``wait_for_signal`` timeout (None: no limit).
        max_for_each_items: Most values of a literal ``for_each`` list (0: no limit).
        max_attempts: Most ``retry.max_attempts`` anywhere (0: no limit; the API
            passes its cap, which runs would otherwise apply silently).
        max_payload_bytes: Largest ``max_response_bytes`` of an ``http`` node
            (0: no limit; the API passes ``RunOptions.max_payload_bytes``).
        expression_cost_limit: The runs' expression cost limit: an expression
            that costs more whatever its variables hold is refused.
    """

    max_nodes: int = Field(default=500, ge=1)
    max_definition_bytes: int = Field(default=262_144, ge=1024)
    max_depth: int = Field(default=64, ge=8)
    max_wait: timedelta | None = Field(default=None, gt=timedelta(0))
    max_signal_timeout: timedelta | None = Field(default=None, gt=timedelta(0))
    max_for_each_items: int = Field(default=0, ge=0)
    max_attempts: int = Field(default=0, ge=0)
    max_payload_bytes: int = Field(default=0, ge=0)
    expression_cost_limit: int = Field(default=DEFAULT_COST_LIMIT, ge=1)


def validate_definition(
    raw: Any, limits: Limits | None = None
) -> tuple[Definition | None, list[ValidationIssue]]:
    """Validate a definition; return it parsed (None if invalid) and every issue.

    A definition over a size limit is not looked at further: that single
    ``too_large`` issue is returned.
    """
    limits = limits or Limits()
    oversize = _size_issue(raw, limits)
    if oversize is not None:
        return None, [oversize]
    if not isinstance(raw, dict):
        return None, [ValidationIssue(path="", code="invalid", message="must be a JSON object")]
    issues: list[ValidationIssue] = []
    definition: Definition | None = None
    try:
        definition = Definition.model_validate(raw)
    except ValidationError as exc:
        issues += pydantic_issues(exc, value=raw)
    nodes = raw.get("nodes")
    if isinstance(nodes, list) and len(nodes) > limits.max_nodes:
        issues.append(
            ValidationIssue(
                path="/nodes",
                code="too_many_nodes",
                message=f"{len(nodes)} nodes; the limit is {limits.max_nodes}",
            )
        )
    output = (raw["output"],) if "output" in raw else None
    frame = Frame(cost_limit=limits.expression_cost_limit)
    issues += dag_issues(nodes, raw.get("edges"), output, frame)
    issues += schema_issues(raw.get("input_schema"), "/input_schema")
    issues += trigger_issues(raw.get("triggers"))
    issues += limit_issues(
        nodes,
        max_wait=limits.max_wait,
        max_signal_timeout=limits.max_signal_timeout,
        max_for_each_items=limits.max_for_each_items,
        max_attempts=limits.max_attempts,
        raw_defaults=raw.get("defaults"),
        max_payload_bytes=limits.max_payload_bytes,
    )
    return (definition if not issues else None), with_hints(raw, issues)


def _size_issue(raw: Any, limits: Limits) -> ValidationIssue | None:
    try:
        text = json.dumps(raw, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except RecursionError:
        return _too_deep("", limits)
    except (TypeError, ValueError) as exc:
        return ValidationIssue(path="", code="invalid", message=f"not JSON data: {exc}")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_definition_bytes:
        return ValidationIssue(
            path="",
            code="too_large",
            message=f"definition is {size} bytes; the limit is {limits.max_definition_bytes}",
        )
    too_deep = _deepest_beyond(raw, limits.max_depth)
    return None if too_deep is None else _too_deep(too_deep, limits)


def _deepest_beyond(raw: Any, limit: int) -> str | None:
    """JSON pointer of a container nested deeper than ``limit``, if any."""
    todo: list[tuple[Any, int, tuple[str | int, ...]]] = [(raw, 0, ())]
    while todo:
        value, depth, parts = todo.pop()
        if isinstance(value, dict):
            items: list[tuple[str | int, Any]] = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        else:
            continue
        if depth >= limit:
            return pointer(parts)
        todo += [(item, depth + 1, (*parts, key)) for key, item in items]
    return None


def _too_deep(path: str, limits: Limits) -> ValidationIssue:
    return ValidationIssue(
        path=path,
        code="too_large",
        message=f"nested more than {limits.max_depth} levels deep; flatten the data",
    )

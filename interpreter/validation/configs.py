"""Save-time checks of node configs against their type's config model.

Templated values can only be type-checked once rendered (at run time), so an
error located at (or inside) a string holding a hole is not reported; the rest
of the config, including the other fields of the same object, is checked. As
in pydantic, an object's cross-field rules (``set only one of body, form and
content``) run only when each of its fields passed, so they wait for run time
when a templated field's type is not text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ValidationError

from interpreter.dsl.holes import has_holes
from interpreter.dsl.pointer import pointer
from interpreter.errors import ExpressionError
from interpreter.nodes.registry import NodeKind
from interpreter.validation.issues import Loc, ValidationIssue, pydantic_issues, walk

SUB_DAG_FIELDS = {"for_each": "body"}
"""Config fields holding a nested DAG (``{nodes, edges, output}``), by node type.

The validator checks such a DAG like the top-level one (shape, ids, edges,
expressions), so errors inside it are not reported by :func:`check_config`.
"""


def sub_dag_model(kind: NodeKind) -> type[BaseModel] | None:
    """The model of ``kind``'s nested DAG field (its limits and shape), if it has one."""
    field = SUB_DAG_FIELDS.get(kind.name)
    if field is None or kind.config_model is None or field not in kind.config_model.model_fields:
        return None
    model = kind.config_model.model_fields[field].annotation
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def check_config(kind: NodeKind, config: dict[str, Any], path: str) -> list[ValidationIssue]:
    """Every problem of ``config`` (at JSON pointer ``path``) for a node of ``kind``."""
    issues: list[ValidationIssue] = []
    sub_dag = SUB_DAG_FIELDS.get(kind.name)
    if kind.config_model is not None:
        try:
            kind.config_model.model_validate(config)
        except ValidationError as exc:
            issues += pydantic_issues(
                exc,
                path,
                value=config,
                code="invalid_config",
                label=f"{kind.name} config: ",
                keep=lambda loc: (
                    not _templated(config, loc) and not (len(loc) > 1 and loc[0] == sub_dag)
                ),
            )
    extra = _EXTRA_CHECKS.get(kind.name)
    if extra is not None:
        issues += [
            ValidationIssue(
                path=path + where, code="invalid_config", message=f"{kind.name} config: {m}"
            )
            for where, m in extra(config)
        ]
    if kind.name == "wait_for_signal":
        issues += schema_issues(config.get("schema"), f"{path}/schema")
    return issues


def schema_issues(schema: Any, path: str) -> list[ValidationIssue]:
    """``invalid_schema`` if ``schema`` (an object) is not a valid JSON Schema 2020-12."""
    if not isinstance(schema, dict):
        return []
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        message = f"not a valid JSON Schema (2020-12): {exc.message}"
        return [
            ValidationIssue(path=path + pointer(exc.path), code="invalid_schema", message=message)
        ]
    return []


def _is_template(value: Any) -> bool:
    """Whether ``value`` is a string holding a hole."""
    if not isinstance(value, str):
        return False
    try:
        return has_holes(value)
    except ExpressionError:
        return True  # an unparsable template: reported by the expression checks


def _templated(config: Mapping[str, Any], loc: Loc) -> bool:
    """Whether the error at ``loc`` is at or inside a templated string."""
    return any(_is_template(value) for _, _, value in walk(loc, config))


def _condition_groups(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Items of ``all``/``any`` are CEL strings or groups with exactly one key.

    The top level is the config model's business; nested groups are ``Any``
    there, and a malformed one would only fail when the node runs.
    """
    problems: list[tuple[str, str]] = []

    def visit_items(items: Any, where: str) -> None:
        if isinstance(items, list):
            for index, item in enumerate(items):
                visit(item, f"{where}/{index}")

    def visit(group: Any, where: str) -> None:
        if isinstance(group, str):
            return
        if not isinstance(group, Mapping) or len(group) != 1 or next(iter(group)) not in _GROUP:
            problems.append(
                (where, "a condition is a CEL string or an object with one key: all, any or expr")
            )
            return
        key, value = next(iter(group.items()))
        if key == "expr" and not isinstance(value, str):
            problems.append((f"{where}/expr", "'expr' is a CEL string"))
        elif key != "expr" and not isinstance(value, list):
            problems.append((f"{where}/{key}", f"'{key}' is a list of conditions"))
        else:
            visit_items(value, f"{where}/{key}")

    for key in ("all", "any"):
        visit_items(config.get(key), f"/{key}")
    return problems


_GROUP = ("all", "any", "expr")


def _wait_until(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    until = config.get("until")
    if not isinstance(until, str) or _is_template(until):
        return []
    try:
        moment = datetime.fromisoformat(until.replace("Z", "+00:00"))
    except ValueError:
        return [("/until", f"{until!r} is not an RFC 3339 time, e.g. 2030-01-31T09:00:00Z")]
    if moment.tzinfo is None:
        return [("/until", f"{until!r} has no time zone; end it with Z or an offset")]
    return []


_EXTRA_CHECKS: dict[str, Callable[[Mapping[str, Any]], list[tuple[str, str]]]] = {
    "condition": _condition_groups,
    "wait": _wait_until,
}
"""Rules a config model cannot express, by node type (paths relative to the config)."""

"""Save-time checks of node configs against their type's config model.

Templated values can only be type-checked once rendered (at run time), so an
error located at (or inside) a string holding a hole is not reported; the rest
of the config, including the other fields of the same object, is checked. As
in pydantic, an object's cross-field rules (``set only one of body, form and
content``) run only when each of its fields passed, so they wait for run time
when a templated field's type is not text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import ValidationError

from interpreter.dsl.pointer import pointer
from interpreter.dsl.schemas import reference_problems
from interpreter.nodes import NodeKind, is_template
from interpreter.validation.issues import Loc, ValidationIssue, pydantic_issues, walk


def check_config(kind: NodeKind, config: dict[str, Any], path: str) -> list[ValidationIssue]:
    """Every problem of ``config`` (at JSON pointer ``path``) for a node of ``kind``.

    A nested DAG (``kind.sub_dag_fields``) is checked like the definition's
    (shape, ids, edges, expressions) by :mod:`interpreter.validation.dag`, so
    errors inside it are not reported here.
    """
    issues: list[ValidationIssue] = []
    sub_dags = {sub.field for sub in kind.sub_dag_fields}
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
                not _templated(config, loc) and not (len(loc) > 1 and loc[0] in sub_dags)
            ),
        )
    issues += [
        ValidationIssue(
            path=path + where, code="invalid_config", message=f"{kind.name} config: {message}"
        )
        for where, message in kind.checks(config)
    ]
    for field in kind.schema_fields:
        where = f"{path}/{field}"
        # A config model that checks its schema itself has said what is wrong with it.
        checked = any(i.path == where or i.path.startswith(where + "/") for i in issues)
        issues += schema_issues(config.get(field), where, meta=not checked)
    return issues


def schema_issues(schema: Any, path: str, *, meta: bool = True) -> list[ValidationIssue]:
    """``invalid_schema`` if ``schema`` (an object) is not a valid JSON Schema 2020-12.

    Also one ``invalid_schema`` at each reference that is not local (a URL, a
    file, another document, a meta-schema other than the built-in 2020-12 ones):
    nothing is ever fetched to validate against a FlowForge schema.

    Args:
        schema: The schema (anything else than an object is left to the model).
        path: Its JSON pointer in the definition.
        meta: Whether to check it against the 2020-12 meta-schema too.
    """
    if not isinstance(schema, dict):
        return []
    issues = [
        ValidationIssue(path=path + pointer(ref.path), code="invalid_schema", message=ref.message)
        for ref in reference_problems(schema)
    ]
    try:
        if meta:
            Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        message = f"not a valid JSON Schema (2020-12): {exc.message}"
        issues.append(
            ValidationIssue(path=path + pointer(exc.path), code="invalid_schema", message=message)
        )
    return issues


def _templated(config: Mapping[str, Any], loc: Loc) -> bool:
    """Whether the error at ``loc`` is at or inside a templated string."""
    return any(is_template(value) for _, _, value in walk(loc, config))

"""Checking a run's input against its definition's ``input_schema``."""

from __future__ import annotations

from typing import Any

from jsonschema.exceptions import SchemaError

from app.errors import ErrorItem, pointer
from interpreter.dsl.schemas import SchemaRefused, schema_errors


def input_errors(schema: dict[str, Any] | None, value: Any) -> list[ErrorItem]:
    """Every violation of ``schema`` by ``value``; paths are JSON pointers into the input.

    JSON Schema 2020-12 with ``format`` asserted. Nothing is ever fetched: a
    reference that is not local (saved before such references were refused)
    makes the schema inapplicable, a 422 that says so.
    """
    if not schema:
        return []
    try:
        errors = sorted(
            schema_errors(schema, value, formats=True), key=lambda e: [str(p) for p in e.path]
        )
    except (SchemaRefused, SchemaError) as exc:
        return [
            ErrorItem(
                path="",
                code="invalid_schema",
                message=f"the definition's input_schema cannot be applied ({exc}); fix it",
            )
        ]
    return [
        ErrorItem(
            path=pointer(error.absolute_path), code=str(error.validator), message=error.message
        )
        for error in errors
    ]

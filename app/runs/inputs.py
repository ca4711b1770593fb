"""Checking a run's input against its definition's ``input_schema``."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from referencing.exceptions import Unresolvable

from app.errors import ErrorItem, pointer


def input_errors(schema: dict[str, Any] | None, value: Any) -> list[ErrorItem]:
    """Every violation of ``schema`` by ``value``; paths are JSON pointers into the input.

    The schema's own ``$schema`` picks the draft (2020-12 if absent). Remote
    ``$ref`` are never fetched: the validator has no retriever.
    """
    if not schema:
        return []
    validator_class = validator_for(schema, default=Draft202012Validator)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    try:
        errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.path])
    except (SchemaError, Unresolvable) as exc:
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

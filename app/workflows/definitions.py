"""Checking a submitted definition with the interpreter's validator."""

from __future__ import annotations

from typing import Any

from app.errors import ApiError, ErrorItem
from app.settings import Settings
from interpreter.dsl.definition import Definition
from interpreter.validation.definition import Limits, validate_definition


def definition_errors(raw: Any, settings: Settings) -> tuple[Definition | None, list[ErrorItem]]:
    """The parsed definition (None if invalid) and every problem found."""
    limits = Limits(
        max_nodes=settings.max_nodes, max_definition_bytes=settings.max_definition_bytes
    )
    definition, issues = validate_definition(raw, limits)
    return definition, [ErrorItem.model_validate(issue.model_dump()) for issue in issues]


def valid_definition(raw: Any, settings: Settings) -> Definition:
    """The parsed definition.

    Raises:
        ApiError: 422 listing every problem (paths point into the definition).
    """
    definition, errors = definition_errors(raw, settings)
    if definition is None:
        raise ApiError(
            422, f"the definition is invalid ({len(errors)} problem(s)); see errors", errors=errors
        )
    return definition

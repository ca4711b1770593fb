"""Checking a submitted definition with the interpreter's validator.

Validation compiles every expression and checks every schema of a definition
of up to ``max_definition_bytes``: CPU work that runs in a worker thread so
the API keeps answering other requests meanwhile.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from app.errors import ApiError, ErrorItem
from app.settings import Settings
from interpreter.dsl.definition import Definition
from interpreter.validation.definition import Limits, validate_definition


async def definition_errors(
    raw: Any, settings: Settings
) -> tuple[Definition | None, list[ErrorItem]]:
    """The parsed definition (None if invalid) and every problem found."""
    limits = Limits(
        max_nodes=settings.max_nodes,
        max_definition_bytes=settings.max_definition_bytes,
        max_wait=timedelta(seconds=settings.quota_max_wait),
        max_signal_timeout=timedelta(seconds=settings.quota_max_signal_timeout),
        max_for_each_items=settings.run.for_each_max_items,
        max_attempts=settings.run.max_attempts_cap,
        max_payload_bytes=settings.run.max_payload_bytes,
        expression_cost_limit=settings.run.expression_cost_limit,
    )
    definition, issues = await asyncio.to_thread(validate_definition, raw, limits)
    return definition, [ErrorItem.model_validate(issue.model_dump()) for issue in issues]


async def valid_definition(raw: Any, settings: Settings) -> Definition:
    """The parsed definition.

    Raises:
        ApiError: 422 listing every problem (paths point into the definition).
    """
    definition, errors = await definition_errors(raw, settings)
    if definition is None:
        raise ApiError(
            422, f"the definition is invalid ({len(errors)} problem(s)); see errors", errors=errors
        )
    return definition

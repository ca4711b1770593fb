"""Errors the services raise for the API to answer, free of any HTTP framework.

A service (``app/runs``, ``app/workflows``, ``app/triggers``) raises
:class:`ApiError` with the status a caller should get and, for bad input, every
problem as an :data:`ErrorItem` with a JSON pointer; ``app/api/errors.py``
turns it into the one error body every route answers with.
"""

from __future__ import annotations

from collections.abc import Sequence

from interpreter.dsl.pointer import pointer
from interpreter.validation.issues import ValidationIssue

ErrorItem = ValidationIssue
"""One itemised problem ``{path, code, message}``: the interpreter's validation
issue, so a definition's problems reach the caller unchanged."""

__all__ = ["ApiError", "ErrorItem", "pointer"]


class ApiError(Exception):
    """An error with the HTTP status to answer and an optional list of problems."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        errors: Sequence[ErrorItem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = headers

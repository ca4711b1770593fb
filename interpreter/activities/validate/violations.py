"""Collect and report what a ``validate`` node found wrong."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NotRequired, TypedDict

from interpreter.dsl.pointer import pointer
from interpreter.dsl.schemas import schema_errors
from interpreter.errors import ValidationFailed

MAX_LISTED = 100
"""Violations listed in one failure; more are counted, not listed (history size)."""


class Violation(TypedDict):
    """One thing wrong with the data; ``rule`` is the CEL of the rule it broke, if any."""

    path: str
    """JSON pointer into ``data`` (``""`` is the whole value)."""
    message: str
    rule: NotRequired[str]


def _sort_key(path: Iterable[Any]) -> list[tuple[int, int, str]]:
    # Array indexes sort numerically (2 before 10), keys alphabetically.
    return [(0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in path]


def schema_violations(schema: dict[str, Any] | bool, data: Any) -> list[Violation]:
    """Every schema error in ``data``, in document order.

    Raises:
        interpreter.dsl.schemas.SchemaRefused: a reference that is not local,
            or does not resolve.
    """
    errors = sorted(
        schema_errors(schema, data, formats=True), key=lambda e: _sort_key(e.absolute_path)
    )
    return [{"path": pointer(error.absolute_path), "message": error.message} for error in errors]


def failure(violations: list[Violation], subject: str = "data") -> ValidationFailed:
    """The node's failure, listing the first :data:`MAX_LISTED` violations and counting the rest.

    ``subject`` names what was checked (``data``, or a plugin's input or output).
    """
    listed = violations[:MAX_LISTED]
    text = "; ".join(f"{v['path'] or '(root)'}: {v['message']}" for v in listed)
    if len(violations) > len(listed):
        text += f"; and {len(violations) - len(listed)} more"
    return ValidationFailed(
        f"{subject} is invalid ({len(violations)} violation(s)): {text}",
        details={"violations": listed, "count": len(violations)},
    )

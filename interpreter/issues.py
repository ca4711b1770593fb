"""One problem found in a definition, and how pydantic's errors become such problems."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ValidationError


class ValidationIssue(BaseModel):
    """Attributes:
    path: JSON pointer into the definition (``/nodes/2/config/url``).
    code: Machine-readable kind of problem (see :mod:`interpreter.validation`).
    message: What is wrong and what to do, naming the node or field.
    """

    path: str
    code: str
    message: str


def pointer(parts: Iterable[str | int]) -> str:
    """A JSON pointer (RFC 6901) from its unescaped parts; ``""`` is the whole document."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


_CODES = {"missing": "required", "extra_forbidden": "unknown_field"}


def pydantic_issues(
    exc: ValidationError, prefix: str = "", *, code: str | None = None, label: str = ""
) -> list[ValidationIssue]:
    """One issue per pydantic error, located at ``prefix`` + the error's location.

    Args:
        exc: The validation error.
        prefix: JSON pointer of the validated value.
        code: The code of every error but a bad duration; if None, ``required``
            for a missing field, ``unknown_field`` for an unexpected one, else
            ``invalid``.
        label: Prepended to each message (e.g. ``http config: ``).
    """
    issues = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        kind = code or _CODES.get(error["type"], "invalid")
        if "bad duration" in message:
            kind = "bad_duration"
        issues.append(
            ValidationIssue(path=prefix + pointer(error["loc"]), code=kind, message=label + message)
        )
    return issues

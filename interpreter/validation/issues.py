"""One problem found in a definition, and how pydantic's errors become such problems."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from interpreter.dsl.pointer import pointer


class ValidationIssue(BaseModel):
    """One problem in a definition, located by a JSON pointer.

    Attributes:
        path: JSON pointer into the definition (``/nodes/2/config/url``).
        code: Machine-readable kind of problem (see :mod:`interpreter.validation.definition`).
        message: What is wrong and what to do, naming the node or field.
    """

    path: str
    code: str
    message: str


Loc = tuple[int | str, ...]
_CODES = {"missing": "required", "extra_forbidden": "unknown_field"}
_SHOULD = "Input should be "


def pydantic_issues(
    exc: ValidationError,
    prefix: str = "",
    *,
    value: Any = None,
    code: str | None = None,
    label: str = "",
    keep: Callable[[Loc], bool] = lambda _loc: True,
) -> list[ValidationIssue]:
    """The issues of a pydantic error, located at ``prefix`` + where in ``value`` they are.

    pydantic's locations also name union members (``str``, ``bearer``); with
    ``value`` (the validated input) those are left out so every path points
    into the document, and the alternatives a union rejected become one issue.

    Args:
        exc: The validation error.
        prefix: JSON pointer of the validated value.
        value: The validated value; None to take locations as they are.
        code: The code of every error but a bad duration; if None, ``required``
            for a missing field, ``unknown_field`` for an unexpected one, else
            ``invalid``.
        label: Prepended to each message (e.g. ``http config: ``).
        keep: Which errors (by pydantic location) to report.
    """
    merged: dict[tuple[str, str], list[str]] = {}
    for error in exc.errors():
        if not keep(error["loc"]):
            continue
        message = error["msg"].removeprefix("Value error, ")
        kind = code or _CODES.get(error["type"], "invalid")
        if "bad duration" in message:
            kind = "bad_duration"
        loc = error["loc"] if value is None else _in_value(error["loc"], value, error["type"])
        messages = merged.setdefault((prefix + pointer(loc), kind), [])
        if message not in messages:
            messages.append(message)
    return [
        ValidationIssue(path=path, code=kind, message=label + _one_message(messages))
        for (path, kind), messages in merged.items()
    ]


def walk(loc: Loc, value: Any) -> Iterator[tuple[int | str, bool, Any]]:
    """Follow a pydantic location into the validated ``value``.

    Yields each part, whether it is a place in the value (not a union member's
    name or a missing field), and the value reached so far.
    """
    for part in loc:
        found = (isinstance(value, Mapping) and part in value) or (
            isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        )
        if found:
            value = value[part]
        yield part, found, value


def _in_value(loc: Loc, value: Any, error_type: str) -> Loc:
    """The parts of ``loc`` that are places in ``value`` (a missing field's name too)."""
    last = len(loc) - 1
    return tuple(
        part
        for position, (part, found, _) in enumerate(walk(loc, value))
        if found or (error_type == "missing" and position == last)
    )


def _one_message(messages: list[str]) -> str:
    if len(messages) > 1 and all(m.startswith(_SHOULD) for m in messages):
        options = [m.removeprefix(_SHOULD) for m in messages]
        return _SHOULD + ", ".join(options[:-1]) + " or " + options[-1]
    return "; ".join(messages)

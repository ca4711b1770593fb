"""``{{ cel }}`` templates inside JSON values.

A string that is exactly one hole yields the hole's native value; any other
string renders every hole as text (strings as-is, everything else as JSON).
``\\{{`` is a literal ``{{``. Parsed templates are cached by text.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from interpreter.errors import EvaluationError, ExpressionSyntaxError
from interpreter.expressions import evaluate, root_names


@dataclass(frozen=True)
class Hole:
    source: str
    offset: int
    """0-based offset of the hole's expression within the template string."""


Segment = str | Hole


@lru_cache(maxsize=8192)
def parse_template(text: str) -> tuple[Segment, ...]:
    """Split ``text`` into literal strings and holes.

    Raises:
        ExpressionSyntaxError: an unclosed ``{{``.
    """
    segments: list[Segment] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("\\{{", i):
            literal.append("{{")
            i += 3
        elif text.startswith("{{", i):
            end = _hole_end(text, i + 2)
            if end < 0:
                raise ExpressionSyntaxError(
                    f"unclosed '{{{{' at column {i + 1} in {text!r}", (1, i + 1)
                )
            if literal:
                segments.append("".join(literal))
                literal = []
            raw = text[i + 2 : end]
            segments.append(Hole(raw.strip(), i + 2 + len(raw) - len(raw.lstrip())))
            i = end + 2
        else:
            literal.append(text[i])
            i += 1
    if literal:
        segments.append("".join(literal))
    return tuple(segments)


def _hole_end(text: str, start: int) -> int:
    """Index of the ``}}`` closing a hole, skipping CEL strings and nested braces."""
    depth, i, quote = 0, start, ""
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0 and text.startswith("}}", i):
                return i
            depth -= 1
        i += 1
    return -1


def has_holes(value: Any) -> bool:
    return any(True for _ in iter_holes(value))


def iter_holes(value: Any, path: str = "") -> Iterator[tuple[str, Hole]]:
    """Every hole in a JSON value, with the JSON pointer (relative) of its string."""
    if isinstance(value, str):
        if "{{" in value:
            for segment in parse_template(value):
                if isinstance(segment, Hole):
                    yield path, segment
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from iter_holes(item, f"{path}/{_escape(str(key))}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_holes(item, f"{path}/{index}")


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def render(
    value: Any,
    variables: Mapping[str, Any],
    *,
    where: str,
    defer: Collection[str] = (),
) -> Any:
    """Render every template in a JSON value.

    Args:
        value: JSON data whose strings may hold holes.
        variables: The expression variables.
        where: Names the place for error messages, e.g. ``node 'get' config``.
        defer: Root names whose holes are left as template text (``secrets``:
            resolved later, inside the activity, so they never reach history).

    Raises:
        EvaluationError: naming ``where`` plus the JSON path and the expression.
    """
    if isinstance(value, str):
        return _render_string(value, variables, where, defer) if "{{" in value else value
    if isinstance(value, Mapping):
        return {
            k: render(v, variables, where=f"{where}/{_escape(str(k))}", defer=defer)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            render(v, variables, where=f"{where}/{i}", defer=defer) for i, v in enumerate(value)
        ]
    return value


def _render_string(
    text: str, variables: Mapping[str, Any], where: str, defer: Collection[str]
) -> Any:
    segments = parse_template(text)
    deferred = [
        isinstance(s, Hole) and bool(defer) and not root_names(s.source).isdisjoint(defer)
        for s in segments
    ]
    if len(segments) == 1 and isinstance(segments[0], Hole) and not deferred[0]:
        return _eval(segments[0], variables, where)
    parts: list[str] = []
    for segment, keep in zip(segments, deferred, strict=True):
        if isinstance(segment, str):
            parts.append(segment.replace("{{", "\\{{") if any(deferred) else segment)
        elif keep:
            parts.append("{{ " + segment.source + " }}")
        else:
            parts.append(as_text(_eval(segment, variables, where)))
    return "".join(parts)


def _eval(hole: Hole, variables: Mapping[str, Any], where: str) -> Any:
    try:
        return evaluate(hole.source, variables)
    except (EvaluationError, ExpressionSyntaxError) as exc:
        raise EvaluationError(f"{where}: {exc}") from None


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

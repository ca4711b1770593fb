r"""``{{ cel }}`` holes inside JSON values.

A string that is exactly one hole yields the hole's native value; any other
string renders every hole as text (strings as-is, everything else as JSON).
``\\{{`` is a literal ``{{``. Parsed templates are cached by text (short ones).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from interpreter.dsl.expressions import cel_tokens, evaluate, quoted, root_names
from interpreter.dsl.pointer import escape as escape_token
from interpreter.errors import ExpressionError, ExpressionSyntaxError, located


@dataclass(frozen=True)
class Hole:
    """One ``{{ cel }}`` hole of a string."""

    source: str
    offset: int
    """0-based offset of the hole's expression within the template string."""


Segment = str | Hole


_CACHED_TEXT_CHARS = 4096
"""Longer texts are parsed each time: the cache must not pin large data in memory."""


def parse_template(text: str) -> tuple[Segment, ...]:
    """Split ``text`` into literal strings and holes (cached unless ``text`` is long).

    Raises:
        ExpressionSyntaxError: an unclosed ``{{`` (``position`` is its 1-based
            line and column in ``text``).
    """
    if len(text) > _CACHED_TEXT_CHARS:
        return _parse(text)
    return _parse_cached(text)


@lru_cache(maxsize=8192)
def _parse_cached(text: str) -> tuple[Segment, ...]:
    return _parse(text)


def _parse(text: str) -> tuple[Segment, ...]:
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
                line, column = line_and_column(text, i)
                raise ExpressionSyntaxError(
                    f"unclosed '{{{{' in {quoted(text)}: close the hole with '}}}}', "
                    "or write '\\{{' for a literal '{{'",
                    (line, column),
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


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of the 0-based ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _hole_end(text: str, start: int) -> int:
    """Index of the ``}}`` closing a hole: not inside a CEL string or a map literal."""
    depth = 0
    for kind, token, position in cel_tokens(text, start):
        if kind != "other":
            continue
        if token == "{":
            depth += 1
        elif token == "}":
            if depth == 0 and text.startswith("}}", position):
                return position
            depth = max(depth - 1, 0)
    return -1


def has_holes(value: Any) -> bool:
    """Whether any string in a JSON value holds a hole (raises like :func:`iter_holes`)."""
    return any(True for _ in iter_holes(value))


def iter_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON value that may hold a hole, with its JSON pointer."""
    if isinstance(value, str):
        if "{{" in value:
            yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from iter_strings(item, f"{path}/{escape_token(key)}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_strings(item, f"{path}/{index}")


def iter_holes(value: Any, path: str = "") -> Iterator[tuple[str, Hole]]:
    """Every hole in a JSON value, with the JSON pointer (relative) of its string.

    Raises:
        ExpressionSyntaxError: a string has an unclosed ``{{``.
    """
    for where, text in iter_strings(value, path):
        for segment in parse_template(text):
            if isinstance(segment, Hole):
                yield where, segment


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
            When given, the result is always a template that the activity
            renders once more: every ``{{`` that is data (literal text,
            rendered values) comes back escaped, so only holes written in
            the definition survive, and data can never become a hole that
            reads a secret, whether or not ``value`` has a deferred hole.

    Raises:
        EvaluationError: naming ``where`` plus the JSON path and the expression.
    """
    return _render(value, variables, where, defer, bool(defer))


def _render(
    value: Any, variables: Mapping[str, Any], where: str, defer: Collection[str], escape: bool
) -> Any:
    if isinstance(value, str):
        return _render_string(value, variables, where, defer, escape) if "{{" in value else value
    if isinstance(value, Mapping):
        return {
            k: _render(v, variables, f"{where}/{escape_token(k)}", defer, escape)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_render(v, variables, f"{where}/{i}", defer, escape) for i, v in enumerate(value)]
    return value


def _render_string(
    text: str, variables: Mapping[str, Any], where: str, defer: Collection[str], escape: bool
) -> Any:
    try:
        segments = parse_template(text)
        deferred = [isinstance(s, Hole) and _reads_any(s, defer) for s in segments]
    except ExpressionError as exc:
        raise located(exc, where) from None
    if len(segments) == 1 and isinstance(segments[0], Hole) and not deferred[0]:
        value = _eval(segments[0], variables, where)
        return _escape_data(value) if escape else value
    parts: list[str] = []
    for segment, keep in zip(segments, deferred, strict=True):
        if isinstance(segment, Hole) and keep:
            if parts and parts[-1].endswith("\\"):
                # A backslash right before a hole would escape it when the
                # activity renders this string; emit it as a constant hole.
                parts[-1] = parts[-1][:-1] + "{{ '\\\\' }}"
            parts.append("{{ " + segment.source + " }}")
        else:
            if isinstance(segment, Hole):
                segment = as_text(_eval(segment, variables, where))
            parts.append(_escape_data(segment) if escape else segment)
    return "".join(parts)


def _escape_data(value: Any) -> Any:
    """``value`` as template text that renders back to ``value`` (strings nested too)."""
    if isinstance(value, str):
        return value.replace("{{", "\\{{")
    if isinstance(value, Mapping):
        return {k: _escape_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape_data(v) for v in value]
    return value


def _reads_any(hole: Hole, names: Collection[str]) -> bool:
    return bool(names) and not root_names(hole.source).isdisjoint(names)


def _eval(hole: Hole, variables: Mapping[str, Any], where: str) -> Any:
    try:
        return evaluate(hole.source, variables)
    except ExpressionError as exc:
        raise located(exc, where) from None


def as_text(value: Any) -> str:
    """A hole's value inside text: strings raw, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

"""CEL expressions: compile once (cached), evaluate with clear errors.

CEL is non-Turing-complete and linear-time, which is why untrusted users may
write it. The compiled-program cache is process-wide and keyed by source:
programs are pure, so sharing them across workflow runs is deterministic.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import cel

from interpreter.errors import EvaluationError, ExpressionSyntaxError

ROOT_NAMES = frozenset({"input", "nodes", "run", "item", "index", "result", "secrets", "data"})
"""Every name an expression may start from (``data`` only in validate rules)."""

_POSITION = re.compile(r"<input>:(\d+):(\d+):")
_STRINGS = re.compile(r"""'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*\"""", re.S)
_MACRO_VARS = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_NODE_DOT = re.compile(r"\bnodes\s*\.\s*([A-Za-z_]\w*)")
_NODE_INDEX = re.compile(r"\bnodes\s*\[\s*(?:'([^']*)'|\"([^\"]*)\")\s*\]")
_NODE_DYNAMIC = re.compile(r"\bnodes\s*\[\s*[^'\"\s]")


@lru_cache(maxsize=8192)
def compile_expression(source: str) -> cel.Program:
    """Compile ``source`` (cached).

    Raises:
        ExpressionSyntaxError: with the 1-based (line, column) of the problem.
    """
    try:
        return cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        text = str(exc)
        match = _POSITION.search(text)
        position = (int(match.group(1)), int(match.group(2))) if match else None
        detail = _POSITION.split(text.split("ERROR: ", 1)[-1], 1)[-1].split("\n|", 1)[0].strip()
        raise ExpressionSyntaxError(f"bad expression {source!r}: {detail}", position) from None


def _code_only(source: str) -> str:
    return _STRINGS.sub('""', source)


@lru_cache(maxsize=8192)
def root_names(source: str) -> frozenset[str]:
    """Free variable names ``source`` reads (comprehension variables excluded)."""
    bound = set(_MACRO_VARS.findall(_code_only(source)))
    return frozenset(set(compile_expression(source).variables()) - bound)


@lru_cache(maxsize=8192)
def node_references(source: str) -> frozenset[str] | None:
    """Node ids read through ``nodes.<id>`` / ``nodes['<id>']``; None if indexed dynamically."""
    code = _code_only(source)
    if _NODE_DYNAMIC.search(code):
        return None
    ids = set(_NODE_DOT.findall(code))
    ids.update(a or b for a, b in _NODE_INDEX.findall(source))
    return frozenset(ids)


def evaluate(source: str, variables: Mapping[str, Any]) -> Any:
    """Evaluate ``source`` with ``variables``; the result is plain JSON-able data.

    Raises:
        ExpressionSyntaxError: the source does not compile.
        EvaluationError: a missing key, a type mismatch, a bad conversion.
    """
    program = compile_expression(source)
    try:
        value = program.execute(dict(variables))
    except KeyError as exc:
        raise EvaluationError(f"{source!r}: no such key: {exc.args[0]!s}") from None
    except (TypeError, ValueError, RuntimeError, OverflowError) as exc:
        raise EvaluationError(f"{source!r}: {_short(str(exc))}") from None
    return to_json(value)


def evaluate_bool(source: str, variables: Mapping[str, Any]) -> bool:
    """Evaluate a guard; anything but a bool is an error (CEL never coerces)."""
    value = evaluate(source, variables)
    if not isinstance(value, bool):
        raise EvaluationError(f"{source!r}: expected a bool, got {type(value).__name__}")
    return value


def to_json(value: Any) -> Any:
    """Turn CEL results (timestamps, durations, bytes, optionals) into JSON data."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        # CEL maps come back in hash order, which differs between processes; sort
        # so a replay (or a retry on another worker) sees the same value.
        return {str(k): to_json(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, cel.OptionalValue):
        return to_json(value.value()) if value.has_value() else None
    return str(value)


def _short(text: str) -> str:
    # The library appends a long generic hint to type errors; keep the first sentence.
    return text.split(". CEL does not coerce", 1)[0]

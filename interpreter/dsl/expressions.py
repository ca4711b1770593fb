"""CEL expressions: compile once (cached), evaluate with clear errors.

CEL is non-Turing-complete and linear-time, which is why untrusted users may
write it. The compiled-program cache is process-wide and keyed by source:
programs are pure, so sharing them across workflow runs is deterministic.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import cel

from interpreter.dsl.cost import estimate, measure
from interpreter.dsl.lexer import cel_tokens as cel_tokens
from interpreter.errors import EvaluationError, ExpressionSyntaxError, ExpressionTooCostly

ROOT_NAMES = frozenset({"input", "nodes", "run", "item", "index", "result", "secrets", "data"})
"""Every name an expression may start from (``data`` only in validate rules)."""

_BUILTINS = frozenset(
    {"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"}
    | {"optional"}  # the namespace of optional.of(), optional.none(), ...
)
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})

OPTIONAL_FUNCTIONS = frozenset(
    {"of", "none", "ofNonZeroValue", "orValue", "hasValue", "value", "or"}
)
"""``optional.of(x)``, ``.orValue(d)`` and the rest of CEL's optional values."""
FUNCTIONS = (
    frozenset(
        {"size", "contains", "startsWith", "endsWith", "matches", "type", "dyn"}
        | {"int", "uint", "double", "string", "bytes", "timestamp", "duration"}
        | {"getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear"}
        | {"getHours", "getMinutes", "getSeconds", "getMilliseconds"}
    )
    | OPTIONAL_FUNCTIONS
)
"""The functions the ``cel`` binding's native library has (macros aside).

Its Python extension library (``lowerAscii``, ``split``, ``math.*``, ...) is
not enabled: those run as Python callbacks the cost model does not price.
"""
_POSITION = re.compile(r"<input>:(\d+):(\d+):")
_MESSAGE_SOURCE_CHARS = 120

LIMITS = "$limits"
"""Key of a variables mapping that carries the run's expression limits.

Not a name CEL can spell, so no expression reads it; :func:`evaluate` takes
its limits from there (a dict with ``cost`` and ``result_bytes``), which
lets every variables mapping the workflow builds carry the run's limits to
every evaluation, in workflow code and in activities alike.
"""

DEFAULT_COST_LIMIT = 10_000_000
DEFAULT_RESULT_BYTES = 2_097_152


@dataclass(frozen=True)
class ExpressionLimits:
    """What one evaluation may cost (estimated units) and return (bytes of JSON)."""

    cost: int = DEFAULT_COST_LIMIT
    result_bytes: int = DEFAULT_RESULT_BYTES

    def carried(self) -> dict[str, int]:
        """The limits as the JSON a variables mapping carries under :data:`LIMITS`."""
        return {"cost": self.cost, "result_bytes": self.result_bytes}

    @classmethod
    def of(cls, variables: Mapping[str, Any]) -> ExpressionLimits:
        """The limits ``variables`` carries; the defaults when it carries none."""
        found = variables.get(LIMITS)
        if isinstance(found, ExpressionLimits):
            return found
        if isinstance(found, Mapping):
            return cls(
                cost=int(found.get("cost", DEFAULT_COST_LIMIT)),
                result_bytes=int(found.get("result_bytes", DEFAULT_RESULT_BYTES)),
            )
        return cls()


WHOLE_SECRET_RULE = (
    "a secret may only be used whole, as a hole of its own: {{ secrets.NAME }} "
    "(alone or inside a string, e.g. 'Bearer {{ secrets.token }}'); no function, "
    "operator or index may be applied to it"
)
"""What every refusal of another use of ``secrets`` says is allowed (save time and run time)."""


def quoted(source: str) -> str:
    """``source`` quoted for a message, shortened so huge expressions stay readable."""
    if len(source) > _MESSAGE_SOURCE_CHARS:
        source = source[: _MESSAGE_SOURCE_CHARS - 3] + "..."
    return repr(source)


@lru_cache(maxsize=8192)
def compile_expression(source: str) -> cel.Program:
    """Compile ``source`` (cached).

    Raises:
        ExpressionSyntaxError: with the 1-based (line, column) of the problem.
    """
    if not isinstance(source, str):
        raise ExpressionSyntaxError(f"an expression must be a string, got {source!r}")
    try:
        return cel.compile(source)
    except Exception as exc:  # the binding's error types are not part of its API
        text = str(exc)
        match = _POSITION.search(text)
        position = (int(match.group(1)), int(match.group(2))) if match else None
        detail = _POSITION.split(text.split("ERROR: ", 1)[-1], 1)[-1].split("\n|", 1)[0].strip()
        raise ExpressionSyntaxError(
            f"bad expression {quoted(source)}: {detail}", position
        ) from None


def _significant(source: str) -> list[tuple[str, str]]:
    return [(kind, text) for kind, text, _ in cel_tokens(source) if kind != "space"]


def _bound_names(tokens: list[tuple[str, str]]) -> frozenset[str]:
    """Variables introduced by macros: ``x`` in ``list.map(x, x * 2)``."""
    bound = set()
    for i in range(len(tokens) - 4):
        dot, macro, paren, var, comma = tokens[i : i + 5]
        if (
            dot == ("other", ".")
            and macro[0] == "name"
            and macro[1] in _MACROS
            and paren == ("other", "(")
            and var[0] == "name"
            and comma == ("other", ",")
        ):
            bound.add(var[1])
    return frozenset(bound)


@lru_cache(maxsize=8192)
def root_names(source: str) -> frozenset[str]:
    """Free variable names ``source`` reads (macro variables and type names excluded).

    Raises:
        ExpressionSyntaxError: the source does not compile.
    """
    names = set(compile_expression(source).variables())
    return frozenset(names - _bound_names(_significant(source)) - _BUILTINS)


@lru_cache(maxsize=8192)
def node_references(source: str) -> frozenset[str] | None:
    """Node ids read through ``nodes.<id>`` / ``nodes['<id>']``.

    None when ``nodes`` is used any other way (``nodes[expr]``, ``nodes`` as a
    whole): the workflow only puts the nodes an expression names into its
    variables, so such a read could not see the node it means.
    """
    tokens = _significant(source)
    shadowed = "nodes" in _bound_names(tokens)
    refs: set[str] = set()
    for i, (kind, text) in enumerate(tokens):
        if kind != "name" or text != "nodes" or (i > 0 and tokens[i - 1] == ("other", ".")):
            continue  # not the root variable (e.g. the field in `input.nodes`)
        if shadowed:
            return None
        ref = _literal_reference(tokens[i + 1 : i + 4])
        if ref is None:
            return None
        refs.add(ref)
    return frozenset(refs)


def _literal_reference(after: list[tuple[str, str]]) -> str | None:
    """The id in ``.id`` or ``['id']`` right after ``nodes``; None otherwise."""
    kinds = [kind for kind, _ in after]
    texts = [text for _, text in after]
    if kinds[:2] == ["other", "name"] and texts[0] == "." and texts[2:3] != ["("]:
        return texts[1]
    if kinds == ["other", "string", "other"] and texts[0] == "[" and texts[2] == "]":
        literal = texts[1]
        prefix = literal[: len(literal) - len(literal.lstrip("rRbB"))]
        if "b" in prefix.lower():
            return None
        quote = 3 if literal[len(prefix) : len(prefix) + 3] in ("'''", '"""') else 1
        return literal[len(prefix) + quote : -quote]
    return None


def whole_secret(source: str) -> str | None:
    """The name when ``source`` is exactly ``secrets.NAME`` or ``secrets['NAME']``; else None.

    Only such a hole may read a secret: any other expression over one (``bytes()``,
    ``size()``, ``matches()``, an operator) yields a derived value the masker
    cannot recognise, or answers questions about the value.
    """
    tokens = _significant(source)
    if len(tokens) == 3 and tokens[:2] == [("name", "secrets"), ("other", ".")]:
        kind, name = tokens[2]
        return name if kind == "name" else None
    if (
        len(tokens) == 4
        and tokens[:2] == [("name", "secrets"), ("other", "[")]
        and tokens[3] == ("other", "]")
        and tokens[2][0] == "string"
    ):
        literal = tokens[2][1]
        quote = literal[:1]
        if quote in ("'", '"') and len(literal) >= 2 and literal[-1] == quote:
            name = literal[1:-1]
            if quote not in name and "\\" not in name:
                return name
    return None


def unknown_functions(source: str) -> frozenset[str]:
    """The functions ``source`` calls that CEL here does not have (operators aside).

    Raises:
        ExpressionSyntaxError: the source does not compile.
    """
    called = compile_expression(source).functions()
    # Operators are named like ``_+_``, ``!_``, ``-_`` and ``@in``.
    return frozenset(
        name for name in called if name[:1] not in ("_", "@", "!", "-") and name not in FUNCTIONS
    )


@lru_cache(maxsize=8192)
def _read_names(source: str) -> frozenset[str]:
    return frozenset(compile_expression(source).variables())


def evaluate(source: str, variables: Mapping[str, Any]) -> Any:
    """Evaluate ``source`` with ``variables``; the result is plain JSON-able data.

    The evaluation is priced first (:mod:`interpreter.dsl.cost`) and refused
    when its price is over the limit that ``variables`` carries under
    :data:`LIMITS`; its result is refused when it is over the byte limit.
    Both decisions depend only on the source and the values, so a replay
    makes them again exactly.

    Raises:
        ExpressionSyntaxError: the source does not compile.
        ExpressionTooCostly: over the cost or the result-size limit.
        EvaluationError: a missing key, a type mismatch, a bad conversion, or
            a result JSON cannot hold (NaN, infinity).
    """
    program = compile_expression(source)
    # Converting a variable into CEL costs its whole size, so pass only the
    # names this expression reads: a run input of 100k items must not be
    # converted for every `item * 2`.
    names = _read_names(source)
    context = {k: v for k, v in variables.items() if k in names}
    limits = ExpressionLimits.of(variables)
    price = expression_cost(source, context)
    if price > limits.cost:
        raise ExpressionTooCostly(
            f"{quoted(source)}: would cost up to {price:,.0f} units, over the limit of "
            f"{limits.cost:,} (FLOWFORGE_EXPRESSION_COST_LIMIT); nested map/filter/all/exists "
            "over large lists cost their sizes multiplied: read less, or nest less",
            details={"cost": price, "limit": limits.cost},
        )
    try:
        value = program.execute(context)
    except KeyError as exc:
        raise EvaluationError(f"{quoted(source)}: no such key: {exc.args[0]!s}") from None
    except Exception as exc:  # any failure of user code must surface as a node error
        raise EvaluationError(f"{quoted(source)}: {_short(str(exc))}") from None
    try:
        result = to_json(value)
    except ValueError as exc:
        raise EvaluationError(f"{quoted(source)}: {exc}") from None
    if isinstance(result, str | list | dict):
        size = len(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode())
        if size > limits.result_bytes:
            raise ExpressionTooCostly(
                f"{quoted(source)}: the result is {size:,} bytes as JSON, over the limit of "
                f"{limits.result_bytes:,} (FLOWFORGE_EXPRESSION_RESULT_BYTES)",
                details={"bytes": size, "limit": limits.result_bytes},
            )
    return result


_MACRO_CALL = re.compile(r"\.\s*(?:map|filter|all|exists|exists_one)\s*\(")


def expression_cost(source: str, variables: Mapping[str, Any]) -> float:
    """The most work evaluating ``source`` over ``variables`` may take, in cost units.

    Deterministic: the same source and values always give the same figure.
    An expression the estimate cannot parse (none that ``cel`` compiles should
    be) is priced as if every macro in it nested in the one before.
    """
    roots = {name: measure(value) for name, value in variables.items()}
    price = estimate(source, roots)
    if price is None:
        total = len(source) + sum(root.size for root in roots.values())
        nesting = len(_MACRO_CALL.findall(source))
        price = sum(root.conversion for root in roots.values()) + float(total) ** (nesting + 2)
    return price


def evaluate_bool(source: str, variables: Mapping[str, Any]) -> bool:
    """Evaluate a guard; anything but a bool is an error (CEL never coerces)."""
    value = evaluate(source, variables)
    if not isinstance(value, bool):
        raise EvaluationError(f"{quoted(source)}: expected a bool, got {type(value).__name__}")
    return value


def to_json(value: Any) -> Any:
    """Turn CEL results (timestamps, durations, bytes, optionals) into JSON data.

    Raises:
        ValueError: a float that JSON cannot represent (NaN, infinity).
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"the result {value} is not a finite number, which JSON cannot hold")
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        # CEL maps come back in hash order, which differs between processes; sort
        # so a replay (or a retry on another worker) sees the same value.
        items = {_key(k): to_json(v) for k, v in value.items()}
        return dict(sorted(items.items()))
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _duration_text(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, cel.OptionalValue):
        return to_json(value.value()) if value.has_value() else None
    return str(value)


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _duration_text(value: timedelta) -> str:
    """CEL's own form, exact and without an exponent: ``31536000s``, ``-1.5s``."""
    micros = value // timedelta(microseconds=1)
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    text = f"{seconds}.{fraction:06d}".rstrip("0").rstrip(".")
    return f"{sign}{text}s"


def _short(text: str) -> str:
    # The library appends a long generic hint to type errors; keep the first sentence.
    for hint in (". CEL does not coerce", ". Check that the variable", ". Check function"):
        text = text.split(hint, 1)[0]
    return text

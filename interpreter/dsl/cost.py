"""What a CEL evaluation may cost, known before it runs.

The ``cel`` binding has no cost limit of its own, holds the GIL while it
evaluates (so one long evaluation stalls every run on that worker) and copies
its accumulator at each step of ``map`` and ``filter`` (n items cost n^2
copies). A wall clock cannot stop it, and would not be deterministic in
workflow code anyway. So an expression is priced before it runs: an upper
bound of its work, computed from its syntax tree and the sizes of the values
it reads, in units of about one copied value (roughly 0.1 microsecond).
The same source and values always give the same price, so a replay decides
exactly as the first run did.

The model, per sub-expression: an upper bound of the value's size (``Lin``,
linear in the sizes of the macro variables in scope, so that the elements of
a list, whose sizes add up to at most the list's size, are not each counted
as big as the whole list), the longest collection it may hold at each
nesting depth, and the cost of computing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from interpreter.dsl.lexer import cel_tokens

MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
"""The comprehension macros: each runs its body once per item of its target."""

STRING_BYTES_PER_UNIT = 128
"""Bytes of a string copied in about the time of one value."""
MAP_ENTRY_WEIGHT = 8
"""A map entry copied costs this many values (hashing, key)."""
MAP_ENTRY_CONVERSION = 50
"""Turning a Python dict entry into a CEL one costs this many units."""
RESULT_CONVERSION = 8
"""Units per unit of result size to turn the result back into Python."""
_MAX_DEPTH = 64

Lin = dict[str, float]
"""``{"": constant, var: coefficient}``: a bound linear in macro variables' sizes."""

Counts = tuple[float, ...]
"""Longest collection at each depth: ``[0]`` the value's own length, ``[1]`` its items'..."""


def _add(*forms: Lin) -> Lin:
    total: Lin = {}
    for form in forms:
        for key, value in form.items():
            total[key] = total.get(key, 0.0) + value
    return total


def _scale(form: Lin, factor: float) -> Lin:
    return {key: value * factor for key, value in form.items()}


def _const(value: float) -> Lin:
    return {"": float(value)}


def _max_counts(*counts: Counts) -> Counts:
    depth = max((len(c) for c in counts), default=0)
    return tuple(max((c[i] for c in counts if i < len(c)), default=0.0) for i in range(depth))


def _shift(counts: Counts) -> Counts:
    return counts[1:]


@dataclass(frozen=True)
class Measure:
    """What the estimate needs of a concrete value."""

    size: float
    """Copy weight: one per scalar and collection, strings by length, map entries more."""
    conversion: float
    """Units to turn the Python value into CEL."""
    counts: Counts
    caps: Counts
    """Largest size of a value at each depth: ``[0]`` the value's own, ``[1]`` its items'..."""


def _own(item: Any) -> tuple[float, float, list[Any]]:
    """An item's own size and conversion weight, and its children."""
    if isinstance(item, str | bytes):
        extra = len(item) // STRING_BYTES_PER_UNIT
        return 1.0 + extra, 2.0 + 4 * extra, []
    if isinstance(item, Mapping):
        entries = len(item)
        children = [*item.keys(), *item.values()]
        return 1.0 + entries * MAP_ENTRY_WEIGHT, 2.0 + entries * MAP_ENTRY_CONVERSION, children
    if isinstance(item, list | tuple):
        return 1.0, 2.0, list(item)
    return 1.0, 2.0, []


def measure(value: Any) -> Measure:
    """Measure a JSON-like value (iteratively: deep values do not exhaust the stack)."""
    conversion = 0.0
    counts: list[float] = []
    caps: list[float] = []
    # post-order: a frame is [item, depth, own size, children, next child, size so far]
    own, weight, children = _own(value)
    conversion += weight
    frames: list[list[Any]] = [[value, 0, own, children, 0, own]]
    total = 0.0
    while frames:
        frame = frames[-1]
        _item, depth, _own_size, children, at, _sum = frame
        if at == 0 and depth < _MAX_DEPTH and (children or isinstance(_item, list | tuple)):
            entries = len(_item)
            while len(counts) <= depth:
                counts.append(0.0)
            counts[depth] = max(counts[depth], float(entries))
        if at < len(children):
            frame[4] = at + 1
            child = children[at]
            own, weight, grand = _own(child)
            conversion += weight
            frames.append([child, depth + 1, own, grand, 0, own])
            continue
        frames.pop()
        size = frame[5]
        if depth < _MAX_DEPTH:
            while len(caps) <= depth:
                caps.append(0.0)
            caps[depth] = max(caps[depth], size)
        if frames:
            frames[-1][5] += size
        else:
            total = size
    return Measure(total, conversion, tuple(counts), tuple(caps))


# -- syntax ---------------------------------------------------------------------

Ast = tuple[Any, ...]

_TWO_CHAR = frozenset({"&&", "||", "==", "!=", "<=", ">="})
_BINARY = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 3,
    "<=": 3,
    ">": 3,
    ">=": 3,
    "in": 3,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
}


class _Unparsable(Exception):
    pass


def _tokens(source: str) -> list[str]:
    """Significant tokens, comments dropped, two-character operators joined."""
    raw = list(cel_tokens(source))
    out: list[str] = []
    i = 0
    while i < len(raw):
        kind, text, _ = raw[i]
        following = raw[i + 1][1] if i + 1 < len(raw) else ""
        if kind == "space":
            i += 1
        elif text == "/" and following == "/":
            while i < len(raw) and "\n" not in raw[i][1]:
                i += 1
        elif kind == "other" and text + following in _TWO_CHAR:
            out.append(text + following)
            i += 2
        elif kind == "number" and text[-1] in "eE" and following in "+-" and i + 2 < len(raw):
            out.append(text + following + raw[i + 2][1])
            i += 3
        else:
            out.append(("\0" if kind == "string" else "") + text)
            i += 1
    return out


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if not token or (expected is not None and token != expected):
            raise _Unparsable(token)
        self.at += 1
        return token

    def expr(self) -> Ast:
        condition = self.binary(1)
        if self.peek() == "?":
            self.take()
            then = self.expr()
            self.take(":")
            return ("cond", condition, then, self.expr())
        return condition

    def binary(self, level: int) -> Ast:
        left = self.unary()
        while (op := self.peek()) in _BINARY and _BINARY[op] >= level:
            self.take()
            right = self.binary(_BINARY[op] + 1)
            left = ("bin", op, left, right)
        return left

    def unary(self) -> Ast:
        if self.peek() in ("!", "-"):
            self.take()
            return ("un", self.unary())
        return self.member(self.primary())

    def args(self, close: str) -> list[Ast]:
        items: list[Ast] = []
        while self.peek() != close:
            items.append(self.expr())
            if self.peek() != ",":
                break
            self.take()
        self.take(close)
        return items

    def entries(self) -> list[tuple[Ast, Ast]]:
        pairs: list[tuple[Ast, Ast]] = []
        while self.peek() != "}":
            key = self.expr()
            self.take(":")
            pairs.append((key, self.expr()))
            if self.peek() != ",":
                break
            self.take()
        self.take("}")
        return pairs

    def member(self, node: Ast) -> Ast:
        while True:
            token = self.peek()
            if token == ".":
                self.take()
                name = self.take()
                if self.peek() == "(":
                    self.take()
                    node = ("call", name, node, self.args(")"))
                else:
                    node = ("sel", node)
            elif token == "[":
                self.take()
                index = self.expr()
                self.take("]")
                node = ("idx", node, index)
            elif token == "{" and node[0] in ("id", "sel"):  # a message: Type{field: value}
                self.take()
                node = ("map", self.entries())
            else:
                return node

    def primary(self) -> Ast:
        token = self.take()
        if token == ".":
            token = self.take()
        if token == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if token == "[":
            return ("list", self.args("]"))
        if token == "{":
            return ("map", self.entries())
        if token.startswith("\0"):
            return ("lit", 1 + len(token) // STRING_BYTES_PER_UNIT)
        if token[:1].isdigit() or token[:1] == ".":
            return ("lit", 1)
        if token[:1].isalpha() or token[:1] == "_":
            if token in ("true", "false", "null"):
                return ("lit", 1)
            if self.peek() == "(":
                self.take()
                return ("call", token, None, self.args(")"))
            return ("id", token)
        raise _Unparsable(token)


@lru_cache(maxsize=8192)
def syntax(source: str) -> Ast | None:
    """The expression's tree for pricing; None when this parser cannot read it."""
    parser = _Parser(_tokens(source))
    try:
        tree = parser.expr()
    except (_Unparsable, RecursionError):
        return None
    return tree if parser.at == len(parser.tokens) else None


def comprehension_depth(source: str) -> int:
    """How deeply comprehension macros nest in ``source`` (0: none)."""
    tree = syntax(source)
    return _depth(tree) if tree is not None else 0


def _depth(node: Any) -> int:
    if not isinstance(node, tuple):
        if isinstance(node, list):
            return max((_depth(item) for item in node), default=0)
        return 0
    inner = max((_depth(part) for part in node[1:]), default=0)
    if node[0] == "call" and node[1] in MACROS and node[2] is not None:
        body = max((_depth(part) for part in node[3][1:]), default=0)
        return max(inner, body + 1)
    return inner


# -- pricing --------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    size: Lin
    counts: Counts
    cost: Lin
    caps: Counts = ()
    """Largest size at each depth, when known better than ``size`` says."""


@dataclass(frozen=True)
class _Var:
    element: float
    counts: Counts
    caps: Counts


def _sum_counts(*counts: Counts) -> Counts:
    depth = max((len(c) for c in counts), default=0)
    return tuple(sum(c[i] for c in counts if i < len(c)) for i in range(depth))


class _Pricer:
    def __init__(self, roots: Mapping[str, Measure]) -> None:
        self.roots = roots

    def num(self, form: Lin, scope: Mapping[str, _Var]) -> float:
        return sum(
            value if key == "" else value * scope[key].element for key, value in form.items()
        )

    def cap(self, value: _Value, scope: Mapping[str, _Var]) -> float:
        """The largest size one instance of ``value`` may have."""
        bound = self.num(value.size, scope)
        return min(bound, value.caps[0]) if value.caps else bound

    def made(self, size: Lin, counts: Counts, cost: Lin, caps: Counts, scope: Any) -> _Value:
        """A value built here: its own cap is its size."""
        return _Value(size, counts, cost, (self.num(size, scope), *caps))

    def price(self, node: Ast, scope: Mapping[str, _Var]) -> _Value:
        kind = node[0]
        if kind == "lit":
            return _Value(_const(node[1]), (), _const(1), (float(node[1]),))
        if kind == "id":
            name = node[1]
            if name in scope:
                var = scope[name]
                return _Value({name: 1.0}, var.counts, _const(1), var.caps)
            found = self.roots.get(name)
            if found is None:
                return _Value(_const(1), (), _const(1))
            return _Value(_const(found.size), found.counts, _const(1), found.caps)
        if kind in ("sel", "idx"):
            inner = self.price(node[1], scope)
            cost = _add(inner.cost, _const(1))
            if kind == "idx":
                cost = _add(cost, self.price(node[2], scope).cost)
            return _Value(inner.size, _shift(inner.counts), cost, _shift(inner.caps))
        if kind == "list":
            items = [self.price(item, scope) for item in node[1]]
            size = _add(_const(1), *(item.size for item in items))
            counts = (float(len(items)), *_max_counts(*(item.counts for item in items)))
            caps = _max_counts(*(self._caps(item, scope) for item in items))
            return self.made(size, counts, _add(size, *(i.cost for i in items)), caps, scope)
        if kind == "map":
            parts = [self.price(part, scope) for pair in node[1] for part in pair]
            size = _add(_const(1 + MAP_ENTRY_WEIGHT * len(node[1])), *(p.size for p in parts))
            counts = (float(len(node[1])), *_max_counts(*(p.counts for p in parts)))
            caps = _max_counts(*(self._caps(part, scope) for part in parts))
            return self.made(size, counts, _add(size, *(p.cost for p in parts)), caps, scope)
        if kind == "un":
            inner = self.price(node[1], scope)
            return _Value(inner.size, inner.counts, _add(inner.cost, _const(1)), inner.caps)
        if kind == "cond":
            test, then, other = (self.price(part, scope) for part in node[1:])
            return _Value(
                _add(then.size, other.size),
                _max_counts(then.counts, other.counts),
                _add(test.cost, then.cost, other.cost, _const(1)),
                _max_counts(self._caps(then, scope), self._caps(other, scope)),
            )
        if kind == "bin":
            left, right = self.price(node[2], scope), self.price(node[3], scope)
            return self.binary(node[1], left, right, scope)
        if node[1] in MACROS and node[2] is not None and node[3] and node[3][0][0] == "id":
            return self.macro(node, scope)
        parts = [self.price(arg, scope) for arg in ([node[2]] if node[2] else []) + node[3]]
        work = _add(_const(1), *(p.cost for p in parts), *(p.size for p in parts))
        if node[1] in ("size", "has", "matches", "startsWith", "endsWith", "contains"):
            return _Value(_const(1), (), work, (1.0,))
        size = _add(_const(1), *(p.size for p in parts))
        return self.made(size, _sum_counts(*(p.counts for p in parts)), work, (), scope)

    def _caps(self, value: _Value, scope: Mapping[str, _Var]) -> Counts:
        return (self.cap(value, scope), *value.caps[1:])

    def binary(self, op: str, left: _Value, right: _Value, scope: Mapping[str, _Var]) -> _Value:
        if op == "+":  # numbers, or strings and lists concatenated (copied)
            size = _add(left.size, right.size)
            counts = _sum_counts(left.counts, right.counts)
            caps = _max_counts(left.caps[1:], right.caps[1:])
            return self.made(size, counts, _add(left.cost, right.cost, size), caps, scope)
        if op in ("&&", "||", "-", "*", "/", "%"):
            return _Value(_const(1), (), _add(left.cost, right.cost, _const(1)), (1.0,))
        # comparisons and `in` walk both sides
        cost = _add(left.cost, right.cost, left.size, right.size)
        return _Value(_const(1), (), cost, (1.0,))

    def macro(self, node: Ast, scope: Mapping[str, _Var]) -> _Value:
        name, target, args = node[1], self.price(node[2], scope), node[3]
        variable = args[0][1]
        items = target.counts[0] if target.counts else 0.0
        element = _Var(self.num(target.size, scope), _shift(target.counts), _shift(target.caps))
        inner = {**scope, variable: element}
        bodies = [self.price(arg, inner) for arg in args[1:]]

        def over_items(form: Lin) -> Lin:
            """The sum of ``form`` over every item: n times the rest, plus the items' sizes."""
            rest = {key: value for key, value in form.items() if key != variable}
            return _add(_scale(rest, items), _scale(target.size, form.get(variable, 0.0)))

        work = _add(target.cost, _const(items), *(over_items(body.cost) for body in bodies))
        if name == "map" and bodies:
            last = bodies[-1]
            summed = over_items(last.size)
            capped = items * self.cap(last, inner)
            if capped < self.num(summed, scope):
                summed = _const(capped)
            size = _add(_const(1 + items), summed)
            return self.made(
                size, (items, *last.counts), _add(work, _scale(size, items)), last.caps, scope
            )
        if name == "filter":
            cost = _add(work, _scale(target.size, items))
            return _Value(target.size, target.counts, cost, target.caps)
        return _Value(_const(1), (), work, (1.0,))


def estimate(source: str, roots: Mapping[str, Measure]) -> float | None:
    """Units of work to evaluate ``source`` over values measured as ``roots``.

    Counts the conversion of every value it reads into CEL, the evaluation
    itself and the conversion of its result back. None when the expression
    is beyond this estimate's parser (the caller decides; every expression
    ``cel`` compiles should parse).
    """
    tree = syntax(source)
    if tree is None:
        return None
    pricer = _Pricer(roots)
    value = pricer.price(tree, {})
    reading = sum(found.conversion for found in roots.values())
    return reading + pricer.num(value.cost, {}) + RESULT_CONVERSION * pricer.num(value.size, {})

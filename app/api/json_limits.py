r"""Input no route can store or answer: too deep JSON, NUL characters, lone surrogates.

Checked on the raw request before any route parses it, so every route and the
webhook receiver (which reads its body itself) are covered by one check:

* nesting deeper than the limit, found by a scan of the raw bytes that never
  recurses (``json.loads`` and everything after it recurse once per level and
  raise ``RecursionError`` a few hundred levels down);
* ``\u0000`` in any string or key (PostgreSQL ``text`` and ``jsonb`` cannot
  hold it), a lone surrogate (``\ud800``: not Unicode, so nothing can encode
  it as UTF-8 to store or answer it) and ``NaN``/``Infinity`` (not JSON, so
  ``jsonb`` refuses them);
* a NUL character in the path, a query parameter or a header.

Each problem is an :data:`~app.errors.ErrorItem` with a JSON pointer into the
request (``/body/definition/nodes/0/config/url``, ``/query/cursor``).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from app.errors import ErrorItem, pointer

MAX_ITEMS = 20
"""Most problems listed in one answer (the scan stops there)."""

# A JSON string (skipped whole, so brackets inside it do not count) or a structural character.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]', re.DOTALL)
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {0x5B: 1, 0x7B: 1, 0x5D: -1, 0x7D: -1}
# Worth a full parse: an escape that may be NUL or a surrogate, or what may decode to NaN/inf.
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|NaN|Infinity|[eE][+-]?\d{3}")
_SURROGATE = re.compile("[\ud800-\udfff]")

NUL_MESSAGE = "contains a NUL character (\\u0000), which PostgreSQL cannot store: remove it"
SURROGATE_MESSAGE = (
    "contains a lone surrogate (\\ud800-\\udfff), which is not Unicode: send the whole "
    "surrogate pair or remove it"
)
NOT_FINITE_MESSAGE = "is NaN or infinite, which JSON cannot carry: send a finite number"


def printable(text: str) -> str:
    r"""``text`` with NUL and lone surrogates spelled ``\uXXXX``, safe to answer as UTF-8."""
    return re.sub("[\x00\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)


def _path(parts: list[object]) -> str:
    return printable(pointer(parts))


def _key(body: bytes, span: tuple[int, int] | None) -> object:
    if span is None:
        return "?"
    try:
        return str(json.loads(body[span[0] : span[1]]))
    except ValueError:
        return "?"


def too_deep(body: bytes, limit: int) -> ErrorItem | None:
    """The place where ``body`` nests deeper than ``limit`` arrays and objects, if it does.

    One pass over the tokens, no recursion: a body of 20,000 ``[`` is refused
    at the first one past the limit. Invalid JSON is not reported here (the
    route's parser says what is wrong with it).
    """
    if _deepest(body) <= limit:
        return None
    # One frame per open container: [is_object, array index, span of the current key].
    stack: list[list[Any]] = []
    last_string: tuple[int, int] | None = None
    for match in _TOKENS.finditer(body):
        char = body[match.start()]
        if char == 0x22:  # '"'
            last_string = match.span()
        elif char in b"[{":
            if len(stack) == limit:
                parts = ["body"] + [_key(body, f[2]) if f[0] else f[1] for f in stack]
                return ErrorItem(
                    path=_path(parts),
                    code="too_deep",
                    message=(
                        f"nests arrays and objects deeper than {limit} levels here: "
                        "flatten the document (the limit is FLOWFORGE_MAX_JSON_DEPTH)"
                    ),
                )
            stack.append([char == 0x7B, 0, None])
        elif char in b"]}":
            if stack:
                stack.pop()
        elif stack and char == 0x2C:  # ','
            stack[-1][1] += 1
        elif stack and char == 0x3A:  # ':'
            stack[-1][2] = last_string
    return None


def _deepest(body: bytes) -> int:
    """How deeply ``body`` nests, counted by C loops only: most bodies stop here."""
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _walk(value: Any) -> Iterator[tuple[list[object], str | float, bool]]:
    """Every string, key and float in ``value`` with its path (``True`` for a key)."""
    pending: list[tuple[list[object], Any]] = [(["body"], value)]
    while pending:
        parts, item = pending.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                yield [*parts, key], key, True
                pending.append(([*parts, key], child))
        elif isinstance(item, list):
            pending.extend(([*parts, index], child) for index, child in enumerate(item))
        elif isinstance(item, str | float):
            yield parts, item, False


def _string_problem(text: str) -> tuple[str, str] | None:
    if "\x00" in text:
        return "nul_character", NUL_MESSAGE
    if _SURROGATE.search(text):
        return "lone_surrogate", SURROGATE_MESSAGE
    return None


def unstorable_values(body: bytes) -> list[ErrorItem]:
    """Every string or key of the JSON ``body`` no route can store, and every NaN or infinity.

    ``body`` must be within the depth limit (see :func:`too_deep`); a body that
    is not JSON has no problems here.
    """
    if not _SUSPECT.search(body):
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []
    problems: list[ErrorItem] = []
    for parts, value, is_key in _walk(document):
        if isinstance(value, float):
            found = None if math.isfinite(value) else ("not_finite", NOT_FINITE_MESSAGE)
        else:
            found = _string_problem(value)
        if found is not None:
            code, message = found
            problems.append(
                ErrorItem(
                    path=_path(parts), code=code, message=("key " if is_key else "") + message
                )
            )
            if len(problems) == MAX_ITEMS:
                break
    return sorted(problems, key=lambda item: item.path)


def unstorable_form(body: bytes) -> list[ErrorItem]:
    """A NUL character in a field of the form-encoded ``body`` (e.g. the login form)."""
    fields = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
    return [
        ErrorItem(path=_path(["body", name]), code="nul_character", message=NUL_MESSAGE)
        for name, value in fields
        if "\x00" in name or "\x00" in value
    ][:MAX_ITEMS]


def unstorable_request_parts(
    path: str, query_string: bytes, headers: list[tuple[bytes, bytes]]
) -> list[ErrorItem]:
    """A NUL character in the request's path, query parameters or headers."""
    problems: list[ErrorItem] = []
    if "\x00" in path:
        problems.append(ErrorItem(path="/path", code="nul_character", message=NUL_MESSAGE))
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            problems.append(
                ErrorItem(path=_path(["query", name]), code="nul_character", message=NUL_MESSAGE)
            )
    for raw_name, raw_value in headers:
        if b"\x00" in raw_name or b"\x00" in raw_value:
            name = raw_name.decode("latin-1")
            problems.append(
                ErrorItem(path=_path(["header", name]), code="nul_character", message=NUL_MESSAGE)
            )
    return problems[:MAX_ITEMS]

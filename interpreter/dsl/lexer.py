"""A lenient CEL lexer: what the expression checks and the cost estimate read."""

from __future__ import annotations

import re
from collections.abc import Iterator

_TOKENS = re.compile(
    r"""
    (?P<string>[bB]?[rR](?:'''.*?'''|\"\"\".*?\"\"\"|'[^'\n]*'|"[^"\n]*")
      |[bB]?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"
               |'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
    |(?P<name>[A-Za-z_]\w*)
    |(?P<number>\.?\d[\w.]*)
    |(?P<space>\s+)
    |(?P<other>.)
    """,
    re.S | re.X,
)


def cel_tokens(text: str, start: int = 0) -> Iterator[tuple[str, str, int]]:
    """Lex CEL from ``start`` into ``(kind, text, offset)`` tokens.

    ``kind`` is string, name, number, space or other (one character).
    Lenient: never fails.
    """
    position = start
    while position < len(text):
        match = _TOKENS.match(text, position)
        assert match is not None and match.lastgroup is not None  # `other` matches anything
        yield match.lastgroup, match.group(), position
        position = match.end()

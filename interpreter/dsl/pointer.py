"""JSON pointers (RFC 6901): how every error names the place it is about."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def escape(part: object) -> str:
    """One reference token: ``~`` as ``~0``, ``/`` as ``~1``."""
    return str(part).replace("~", "~0").replace("/", "~1")


def pointer(parts: Iterable[object]) -> str:
    """A JSON pointer from its unescaped parts; ``""`` is the whole document."""
    return "".join("/" + escape(part) for part in parts)


def unescape(token: str) -> str:
    """One reference token as the key it names: ``~1`` as ``/``, then ``~0`` as ``~``."""
    return token.replace("~1", "/").replace("~0", "~")


def resolve(document: Any, path: str) -> Any:
    """The value at ``path`` in ``document``, or None when nothing is there."""
    value = document
    for token in path.split("/")[1:]:
        part = unescape(token)
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value

"""JSON pointers (RFC 6901): how every error names the place it is about."""

from __future__ import annotations

from collections.abc import Iterable


def escape(part: object) -> str:
    """One reference token: ``~`` as ``~0``, ``/`` as ``~1``."""
    return str(part).replace("~", "~0").replace("/", "~1")


def pointer(parts: Iterable[object]) -> str:
    """A JSON pointer from its unescaped parts; ``""`` is the whole document."""
    return "".join("/" + escape(part) for part in parts)

"""The hook through which ``{{ secrets.NAME }}`` holes are filled inside an activity.

The workflow leaves these holes unrendered so secret values never enter
Temporal history; an activity that gets a config still holding them needs a
:class:`SecretResolver` from its worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from interpreter.errors import ExpressionError
from interpreter.expressions import root_names
from interpreter.templates import Hole, parse_template


class SecretResolver(Protocol):
    """Fills secret holes; the secret store implements it."""

    async def render(self, value: Any) -> Any:
        """Return ``value`` with every ``{{ secrets.NAME }}`` hole replaced by its value.

        Raises:
            ConfigError: a named secret does not exist.
        """
        ...


def _reads_secrets(hole: Hole) -> bool:
    try:
        return "secrets" in root_names(hole.source)
    except ExpressionError:
        # Literal braces in rendered data, not a hole the workflow left behind.
        return False


def has_secret_holes(value: Any) -> bool:
    """Whether any string in ``value`` still holds a hole reading ``secrets``."""
    if isinstance(value, str):
        if "{{" not in value:
            return False
        try:
            segments = parse_template(value)
        except ExpressionError:
            return False
        return any(isinstance(s, Hole) and _reads_secrets(s) for s in segments)
    if isinstance(value, Mapping):
        return any(has_secret_holes(item) for item in value.values())
    if isinstance(value, list):
        return any(has_secret_holes(item) for item in value)
    return False

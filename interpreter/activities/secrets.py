"""The hook through which ``{{ secrets.NAME }}`` holes are filled inside an activity.

The workflow leaves these holes unrendered so secret values never enter
Temporal history; an activity that gets a config still holding them needs a
:class:`SecretResolver` from its worker.
"""

from __future__ import annotations

from typing import Any, Protocol

from interpreter.errors import ExpressionError
from interpreter.expressions import root_names
from interpreter.templates import iter_holes


class SecretResolver(Protocol):
    """Fills secret holes; the secret store implements it."""

    async def render(self, value: Any) -> Any:
        """Return ``value`` with every ``{{ secrets.NAME }}`` hole replaced by its value.

        Raises:
            ConfigError: a named secret does not exist.
        """
        ...


def has_secret_holes(value: Any) -> bool:
    """Whether any string in ``value`` still holds a hole reading ``secrets``."""
    try:
        return any("secrets" in root_names(hole.source) for _, hole in iter_holes(value))
    except ExpressionError:
        # Not a template the workflow left behind (e.g. literal braces in data).
        return False

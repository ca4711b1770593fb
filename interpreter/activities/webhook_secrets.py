"""Fill a ``webhook`` config's secret holes (``secret``, headers, ...) before parsing it."""

from __future__ import annotations

from typing import Any

from interpreter.activities.config import config_error
from interpreter.activities.secrets import SecretResolver, has_secret_holes


async def render_secrets(
    resolver: SecretResolver | None, config: dict[str, Any], node_id: str
) -> dict[str, Any]:
    """``config`` with every ``{{ secrets.NAME }}`` hole filled.

    Raises:
        ConfigError: a hole is left and no resolver is configured, or a named
            secret does not exist.
    """
    if not has_secret_holes(config):
        return config
    if resolver is None:
        raise config_error(node_id, "config", "secrets are not configured on this worker")
    rendered: dict[str, Any] = await resolver.render(config)
    return rendered

"""What the processes' Settings classes read from the environment."""

from __future__ import annotations

from pydantic_settings import BaseSettings


def env_names(settings: type[BaseSettings]) -> set[str]:
    """The environment variables a Settings class reads."""
    prefix = settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names

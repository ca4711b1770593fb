"""The base of every node config model, and run-time checks of a rendered config against one.

Unknown keys are mistakes (a typo must not be ignored), so every config model
derives from :class:`NodeConfig`; activities check the config they get with
:func:`parse_config`, which names the node and each bad field.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from interpreter.errors import ConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)


class NodeConfig(BaseModel):
    """Base of the config models: unknown keys are mistakes, not extensions."""

    model_config = ConfigDict(extra="forbid")


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("auth", "token")`` -> ``config.auth.token``; list indexes as ``[0]``."""
    text = "config"
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def config_error(node_id: str, field: str, message: str) -> ConfigError:
    """A :class:`ConfigError` about one field of a node's config, naming both."""
    return ConfigError(f"node {node_id!r}: {field}: {message}", details={"field": field})


def parse_config(model: type[ModelT], config: dict[str, Any], node_id: str) -> ModelT:
    """Validate ``config`` (already rendered) with ``model``.

    Raises:
        ConfigError: naming the node and every bad field, e.g.
            ``node 'get_lead': config.method: Input should be 'GET', ...``.
    """
    try:
        return model.model_validate(config)
    except ValidationError as exc:
        problems = [
            f"{field_path(error['loc'])}: {error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors(include_url=False)
        ]
        raise ConfigError(
            f"node {node_id!r}: " + "; ".join(problems),
            details={"fields": [field_path(error["loc"]) for error in exc.errors()]},
        ) from None

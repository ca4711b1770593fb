"""The ``log`` node (alias ``echo``): write a message to the worker's log."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from temporalio import activity

from interpreter.activities.base import ActivityRequest, node_activity
from interpreter.dsl.node_config import NodeConfig, parse_config

LogLevel = Literal["debug", "info", "warning", "error"]
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _as_text(value: Any) -> Any:
    # A message that is exactly one hole renders to its native value.
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class LogConfig(NodeConfig):
    """Config of a ``log`` node.

    Attributes:
        message: The text to log; a non-text value is logged as JSON.
        level: ``debug``, ``info`` (default), ``warning`` or ``error``.
    """

    message: Annotated[str, BeforeValidator(_as_text)] = Field(max_length=65_536)
    level: Annotated[LogLevel, BeforeValidator(_lower)] = "info"


class LogActivity:
    """See :meth:`log`."""

    @activity.defn(name="log")
    @node_activity
    async def log(self, request: ActivityRequest) -> dict[str, str]:
        """Log the message with the run's and node's ids; output ``{message}``."""
        config = parse_config(LogConfig, request.config, request.node_id)
        activity.logger.log(
            _LEVELS[config.level],
            config.message,
            extra={
                "flowforge_run_id": request.run_id,
                "flowforge_node_id": request.node_id,
                "flowforge_node_path": request.node_path,
            },
        )
        return {"message": config.message}

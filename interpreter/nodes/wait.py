"""``wait``: a durable timer, for a ``duration`` or ``until`` an RFC 3339 time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field, model_validator
from temporalio import workflow

from interpreter.dsl.definition import Node
from interpreter.dsl.durations import Duration, parse_duration
from interpreter.dsl.holes import render
from interpreter.dsl.node_config import NodeConfig
from interpreter.errors import EvaluationError
from interpreter.nodes.kind import (
    Located,
    NodeDag,
    NodeDone,
    NodeHost,
    NodeKind,
    Variables,
    is_template,
)


class WaitConfig(NodeConfig):
    """Exactly one of ``duration`` (e.g. ``30s``) or ``until`` (an RFC 3339 time)."""

    duration: Duration | None = None
    until: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _one_of(self) -> WaitConfig:
        if (self.duration is None) == (self.until is None):
            raise ValueError("give exactly one of 'duration' or 'until'")
        return self


def _until_is_a_time(config: Mapping[str, Any]) -> Located:
    until = config.get("until")
    if not isinstance(until, str) or is_template(until):
        return []
    try:
        moment = datetime.fromisoformat(until.replace("Z", "+00:00"))
    except ValueError:
        return [("/until", f"{until!r} is not an RFC 3339 time, e.g. 2030-01-31T09:00:00Z")]
    if moment.tzinfo is None:
        return [("/until", f"{until!r} has no time zone; end it with Z or an offset")]
    return []


def wait_delay(config: Mapping[str, Any], variables: Variables, now: datetime) -> timedelta:
    """How long the timer runs: the rendered ``duration``, or from ``now`` to ``until``.

    Raises:
        EvaluationError: the rendered value is not a duration or a zoned time.
    """
    rendered = render(dict(config), variables, where="config")
    try:
        if rendered.get("duration") is not None:
            return parse_duration(str(rendered["duration"]))
        until = datetime.fromisoformat(str(rendered["until"]).replace("Z", "+00:00"))
    except (ValueError, KeyError) as exc:
        raise EvaluationError(f"config: {exc}") from None
    if until.tzinfo is None:
        raise EvaluationError("config/until: give a time zone (RFC 3339), e.g. ...Z")
    return max(until - now, timedelta(0))


async def execute(_host: NodeHost, dag: NodeDag, node: Node, variables: Variables) -> NodeDone:
    """Sleep on a durable timer; the output says for how long (``{"waited": "30s"}``)."""
    dag.waiting(node.id)
    delay = wait_delay(node.config, variables, workflow.now())
    await workflow.sleep(delay, summary=f"{dag.path(node.id)}: wait")
    return NodeDone({"waited": f"{delay.total_seconds():g}s"})


WAIT = NodeKind("wait", WaitConfig, execute=execute, checks=_until_is_a_time)

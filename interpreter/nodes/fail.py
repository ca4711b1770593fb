"""``fail``: end the DAG (the run, or a for_each item) with its message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from interpreter.dsl.holes import render
from interpreter.dsl.node_config import NodeConfig
from interpreter.nodes.kind import NodeKind, Outcome, Variables


class FailConfig(NodeConfig):
    """A ``fail`` node's config: ``message`` (templates rendered) becomes the DAG's error."""

    message: str = Field(default="the run was failed by a fail node", max_length=4096)


def evaluate(config: Mapping[str, Any], variables: Variables) -> Outcome:
    """End the DAG with the rendered ``message`` as its ``Fail`` error."""
    message = render(config.get("message", "failed by a fail node"), variables, where="config")
    return Outcome(fail=str(message))


FAIL = NodeKind("fail", FailConfig, evaluate=evaluate)

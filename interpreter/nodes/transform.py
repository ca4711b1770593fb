"""``transform`` (alias ``set``): its output is its ``value``, templates rendered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from interpreter.dsl.holes import render
from interpreter.dsl.node_config import NodeConfig
from interpreter.nodes.kind import NodeKind, Outcome, Variables


class TransformConfig(NodeConfig):
    """A ``transform`` node's config: ``value``, any JSON whose templates are rendered."""

    value: Any = None


def evaluate(config: Mapping[str, Any], variables: Variables) -> Outcome:
    """The rendered ``value``, as the node's output."""
    return Outcome(render(config.get("value"), variables, where="config/value"))


TRANSFORM = NodeKind("transform", TransformConfig, aliases=("set",), evaluate=evaluate)

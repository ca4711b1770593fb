"""``succeed``: end the DAG successfully; its ``output`` becomes the DAG's output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from interpreter.dsl.holes import render
from interpreter.dsl.node_config import NodeConfig
from interpreter.nodes.kind import NodeKind, Outcome, Variables


class SucceedConfig(NodeConfig):
    """A ``succeed`` node's config: ``output`` (templates rendered) is the DAG's output."""

    output: Any = None


def evaluate(config: Mapping[str, Any], variables: Variables) -> Outcome:
    """End the DAG successfully with the rendered ``output``."""
    return Outcome(render(config.get("output"), variables, where="config/output"), succeed=True)


SUCCEED = NodeKind("succeed", SucceedConfig, evaluate=evaluate)

"""``switch``: ``{"value": ...}`` of the first case whose ``when`` holds, else ``default``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from interpreter.dsl.expressions import evaluate_bool
from interpreter.dsl.holes import render
from interpreter.dsl.node_config import NodeConfig
from interpreter.nodes.kind import Located, NodeKind, Outcome, Variables


class SwitchCase(NodeConfig):
    """One case: its ``value`` (templates rendered) is the output if ``when`` (CEL) holds."""

    when: str = Field(max_length=4096)
    value: Any = None


class SwitchConfig(NodeConfig):
    """Cases tried in order; ``default`` (templates rendered) if none holds."""

    cases: list[SwitchCase] = Field(min_length=1, max_length=200)
    default: Any = None


def _cel_fields(config: Mapping[str, Any]) -> Located:
    cases = config.get("cases")
    if not isinstance(cases, list):
        return []
    return [
        (f"/cases/{i}/when", case["when"])
        for i, case in enumerate(cases)
        if isinstance(case, Mapping) and isinstance(case.get("when"), str)
    ]


def evaluate(config: Mapping[str, Any], variables: Variables) -> Outcome:
    """The rendered ``value`` of the first case whose ``when`` holds, else of ``default``."""
    for index, case in enumerate(config["cases"]):
        if evaluate_bool(case["when"], variables):
            value = render(case.get("value"), variables, where=f"config/cases/{index}")
            return Outcome({"value": value})
    return Outcome({"value": render(config.get("default"), variables, where="config/default")})


SWITCH = NodeKind("switch", SwitchConfig, evaluate=evaluate, cel_fields=_cel_fields)

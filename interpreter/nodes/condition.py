"""``condition``: ``{"result": bool}`` from ``all``, ``any`` (nestable groups) or ``expr``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from interpreter.dsl.expressions import evaluate_bool
from interpreter.dsl.node_config import NodeConfig
from interpreter.nodes.kind import Located, NodeKind, Outcome, Variables

_GROUP = ("all", "any", "expr")


class ConditionConfig(NodeConfig):
    """Exactly one of ``all``, ``any`` (lists of CEL or nested groups) or ``expr``."""

    all: list[Any] | None = Field(default=None, max_length=200)
    any: list[Any] | None = Field(default=None, max_length=200)
    expr: str | None = Field(default=None, max_length=4096)

    @model_validator(mode="after")
    def _exactly_one(self) -> ConditionConfig:
        given = [k for k in _GROUP if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'all', 'any' or 'expr'")
        return self


def condition_expressions(group: Any, path: str = "") -> Located:
    """Every CEL string in a condition config (``{all|any|expr}``, nestable), with its path."""
    if isinstance(group, str):
        return [(path, group)]
    if isinstance(group, list):
        return [
            e for i, item in enumerate(group) for e in condition_expressions(item, f"{path}/{i}")
        ]
    if isinstance(group, Mapping):
        return [e for key in _GROUP for e in condition_expressions(group.get(key), f"{path}/{key}")]
    return []


def _cel_fields(config: Mapping[str, Any]) -> Located:
    return condition_expressions(config)


def _groups(config: Mapping[str, Any]) -> Located:
    """Items of ``all``/``any`` are CEL strings or groups with exactly one key.

    The top level is the config model's business; nested groups are ``Any``
    there, and a malformed one would only fail when the node runs.
    """
    problems: Located = []

    def visit_items(items: Any, where: str) -> None:
        if isinstance(items, list):
            for index, item in enumerate(items):
                visit(item, f"{where}/{index}")

    def visit(group: Any, where: str) -> None:
        if isinstance(group, str):
            return
        if not isinstance(group, Mapping) or len(group) != 1 or next(iter(group)) not in _GROUP:
            problems.append(
                (where, "a condition is a CEL string or an object with one key: all, any or expr")
            )
            return
        key, value = next(iter(group.items()))
        if key == "expr" and not isinstance(value, str):
            problems.append((f"{where}/expr", "'expr' is a CEL string"))
        elif key != "expr" and not isinstance(value, list):
            problems.append((f"{where}/{key}", f"'{key}' is a list of conditions"))
        else:
            visit_items(value, f"{where}/{key}")

    for key in ("all", "any"):
        visit_items(config.get(key), f"/{key}")
    return problems


def _holds(group: Any, variables: Variables, where: str) -> bool:
    if isinstance(group, str):
        return evaluate_bool(group, variables)
    if isinstance(group, list):
        raise ValueError(f"{where}: a list must sit under 'all' or 'any'")
    if "all" in group:
        return all(_holds(g, variables, where) for g in group["all"])
    if "any" in group:
        return any(_holds(g, variables, where) for g in group["any"])
    return _holds(group["expr"], variables, where)


def evaluate(config: Mapping[str, Any], variables: Variables) -> Outcome:
    """Whether the config's group holds for ``variables``, as ``{"result": bool}``."""
    return Outcome({"result": _holds(config, variables, "config")})


CONDITION = NodeKind(
    "condition", ConditionConfig, evaluate=evaluate, cel_fields=_cel_fields, checks=_groups
)

"""Pure nodes, evaluated in the workflow itself: deterministic, no activity.

Each ``run_*`` function takes the node's raw config (templates unrendered) and
the expression variables, and returns the node's output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from interpreter.dsl.durations import Duration
from interpreter.dsl.expressions import evaluate_bool
from interpreter.dsl.holes import render

Variables = Mapping[str, Any]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TransformConfig(_Config):
    value: Any = None


class ConditionConfig(_Config):
    """Exactly one of ``all``, ``any`` (lists of CEL or nested groups) or ``expr``."""

    all: list[Any] | None = Field(default=None, max_length=200)
    any: list[Any] | None = Field(default=None, max_length=200)
    expr: str | None = Field(default=None, max_length=4096)

    @model_validator(mode="after")
    def _exactly_one(self) -> ConditionConfig:
        given = [k for k in ("all", "any", "expr") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'all', 'any' or 'expr'")
        return self


class SwitchCase(_Config):
    when: str = Field(max_length=4096)
    value: Any = None


class SwitchConfig(_Config):
    cases: list[SwitchCase] = Field(min_length=1, max_length=200)
    default: Any = None


class WaitConfig(_Config):
    duration: Duration | None = None
    until: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _one_of(self) -> WaitConfig:
        if (self.duration is None) == (self.until is None):
            raise ValueError("give exactly one of 'duration' or 'until'")
        return self


class FailConfig(_Config):
    message: str = Field(default="the run was failed by a fail node", max_length=4096)


class SucceedConfig(_Config):
    output: Any = None


def condition_expressions(group: Any, path: str = "") -> list[tuple[str, str]]:
    """Every CEL string in a condition config (``{all|any|expr}``, nestable), with its path."""
    if isinstance(group, str):
        return [(path, group)]
    if isinstance(group, list):
        return [
            e for i, item in enumerate(group) for e in condition_expressions(item, f"{path}/{i}")
        ]
    if isinstance(group, Mapping):
        return [
            e
            for key in ("all", "any", "expr")
            for e in condition_expressions(group.get(key), f"{path}/{key}")
        ]
    return []


def run_transform(config: Mapping[str, Any], variables: Variables, where: str) -> Any:
    return render(config.get("value"), variables, where=f"{where}/value")


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


def run_condition(config: Mapping[str, Any], variables: Variables, where: str) -> Any:
    return {"result": _holds(config, variables, where)}


def run_switch(config: Mapping[str, Any], variables: Variables, where: str) -> Any:
    for index, case in enumerate(config["cases"]):
        if evaluate_bool(case["when"], variables):
            return {"value": render(case.get("value"), variables, where=f"{where}/cases/{index}")}
    return {"value": render(config.get("default"), variables, where=f"{where}/default")}

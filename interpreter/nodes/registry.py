"""Every node type the DSL knows: how it runs and how its config is checked."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from interpreter.activities.http.config import HttpConfig
from interpreter.activities.log import LogConfig
from interpreter.activities.script.config import ScriptConfig
from interpreter.activities.validate.activity import ValidateConfig
from interpreter.activities.webhook.config import WebhookConfig
from interpreter.nodes import control, pure


@dataclass(frozen=True)
class NodeKind:
    """What the interpreter needs to know about a node type.

    Attributes:
        runs_as: ``activity`` (touches the outside world) or ``interpreter``.
        activity: The activity name, for activity nodes.
        config_model: Checks the config at save time (templated values are
            exempt from type checks) and, for activities, at run time.
        cel_fields: Config fields holding bare CEL (not templates), as a
            function returning ``(json_pointer, source)`` pairs.
        context_in_activity: The activity evaluates bare CEL itself and needs
            the expression variables (``ActivityRequest.context``).
    """

    name: str
    runs_as: Literal["activity", "interpreter"]
    config_model: type[BaseModel] | None = None
    activity: str | None = None
    cel_fields: Callable[[Mapping[str, Any]], list[tuple[str, str]]] = field(
        default=lambda _config: []
    )
    context_in_activity: bool = False


def _condition_cel(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    return pure.condition_expressions(config)


def _switch_cel(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    cases = config.get("cases")
    if not isinstance(cases, list):
        return []
    return [
        (f"/cases/{i}/when", case["when"])
        for i, case in enumerate(cases)
        if isinstance(case, Mapping) and isinstance(case.get("when"), str)
    ]


def _rules_cel(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    rules = config.get("rules")
    if not isinstance(rules, list):
        return []
    return [
        (f"/rules/{i}/expr", rule["expr"])
        for i, rule in enumerate(rules)
        if isinstance(rule, Mapping) and isinstance(rule.get("expr"), str)
    ]


def _items_cel(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    items = config.get("items")
    return [("/items", items)] if isinstance(items, str) else []


def _activity_kinds() -> list[NodeKind]:
    return [
        NodeKind("http", "activity", HttpConfig, activity="http"),
        NodeKind("log", "activity", LogConfig, activity="log"),
        NodeKind("webhook", "activity", WebhookConfig, activity="webhook"),
        NodeKind("script", "activity", ScriptConfig, activity="script"),
        NodeKind(
            "validate",
            "activity",
            ValidateConfig,
            activity="validate",
            cel_fields=_rules_cel,
            context_in_activity=True,
        ),
    ]


KINDS: dict[str, NodeKind] = {
    kind.name: kind
    for kind in [
        NodeKind("transform", "interpreter", pure.TransformConfig),
        NodeKind("condition", "interpreter", pure.ConditionConfig, cel_fields=_condition_cel),
        NodeKind("switch", "interpreter", pure.SwitchConfig, cel_fields=_switch_cel),
        NodeKind("wait", "interpreter", pure.WaitConfig),
        NodeKind("fail", "interpreter", pure.FailConfig),
        NodeKind("succeed", "interpreter", pure.SucceedConfig),
        NodeKind("for_each", "interpreter", control.ForEachConfig, cel_fields=_items_cel),
        NodeKind("sub_workflow", "interpreter", control.SubWorkflowConfig),
        NodeKind("wait_for_signal", "interpreter", control.WaitForSignalConfig),
        *_activity_kinds(),
    ]
}

ALIASES = {"echo": "log", "set": "transform"}


def kind_of(node_type: str) -> NodeKind | None:
    """The kind for a type or alias, None if unknown."""
    return KINDS.get(ALIASES.get(node_type, node_type))


def known_types() -> list[str]:
    return sorted([*KINDS, *ALIASES])

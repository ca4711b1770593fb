"""``validate``: data against a JSON Schema and CEL rules, every violation reported.

The activity evaluates the rules itself (they read ``data``), so it gets the
expression variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from interpreter.activities.validate.activity import ValidateConfig
from interpreter.nodes.kind import Located, NodeKind


def _cel_fields(config: Mapping[str, Any]) -> Located:
    rules = config.get("rules")
    if not isinstance(rules, list):
        return []
    return [
        (f"/rules/{i}/expr", rule["expr"])
        for i, rule in enumerate(rules)
        if isinstance(rule, Mapping) and isinstance(rule.get("expr"), str)
    ]


VALIDATE = NodeKind(
    "validate",
    ValidateConfig,
    activity="validate",
    cel_fields=_cel_fields,
    cel_names=frozenset({"data"}),
    context_in_activity=True,
    schema_fields=("schema",),
    local=True,
)

"""Save-time checks of node configs against their type's config model.

Templated values can only be type-checked once rendered (at run time), so a
field holding a hole is checked for presence only.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from interpreter.issues import ValidationIssue
from interpreter.nodes.registry import NodeKind
from interpreter.templates import has_holes


def check_config(kind: NodeKind, config: dict[str, Any], path: str) -> list[ValidationIssue]:
    if kind.config_model is None:
        return []
    try:
        templated = {key for key, value in config.items() if has_holes(value)}
    except Exception:  # an unparsable template: reported by the expression checks
        templated = set(config)
    literal = {key: value for key, value in config.items() if key not in templated}
    try:
        kind.config_model.model_validate(literal)
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            loc = error["loc"]
            if (loc and loc[0] in templated) or (not loc and templated):
                continue
            message = error["msg"].removeprefix("Value error, ")
            issues.append(
                ValidationIssue(
                    path=path + "".join(f"/{part}" for part in loc),
                    code="bad_duration" if "bad duration" in message else "invalid_config",
                    message=f"{kind.type} config: {message}",
                )
            )
        return issues
    return []

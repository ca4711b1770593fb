"""``${param.NAME}`` placeholders in a template's definition.

The syntax cannot be mistaken for the DSL's ``{{ cel }}`` holes, so both
live side by side (``"{{ secrets.${param.key_name} }}"``). Placeholders are
replaced in string values (never in object keys): a string that is exactly
one placeholder becomes the parameter's value as it is (object, number...);
elsewhere the value is written into the string (strings as they are, other
values as JSON). ``$${`` stands for a literal ``${``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from app.db.models.template import TemplateParameter
from app.errors import ErrorItem

_PLACEHOLDER = re.compile(r"\$\$\{|\$\{param\.([a-z][a-z0-9_]{0,62})\}")
_WHOLE = re.compile(r"^\$\{param\.([a-z][a-z0-9_]{0,62})\}$")


def placeholders(value: Any) -> set[str]:
    """The parameter names ``value`` refers to."""
    if isinstance(value, str):
        return {m.group(1) for m in _PLACEHOLDER.finditer(value) if m.group(1)}
    if isinstance(value, Mapping):
        return set().union(*(placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value)) if value else set()
    return set()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def substitute(value: Any, values: Mapping[str, Any]) -> Any:
    """``value`` with every placeholder replaced by its parameter's value."""
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            return values[whole.group(1)]

        def replace(match: re.Match[str]) -> str:
            return "${" if match.group(1) is None else _text(values[match.group(1)])

        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, Mapping):
        return {key: substitute(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, values) for item in value]
    return value


def declaration_errors(definition: Any, parameters: Sequence[TemplateParameter]) -> list[ErrorItem]:
    """Problems of a template's parameter list: duplicates, and placeholders never declared."""
    errors = []
    seen: set[str] = set()
    for index, parameter in enumerate(parameters):
        if parameter.name in seen:
            errors.append(
                ErrorItem(
                    path=f"/body/parameters/{index}/name",
                    code="duplicate_parameter",
                    message=f"parameter {parameter.name!r} is declared twice",
                )
            )
        seen.add(parameter.name)
    for name in sorted(placeholders(definition) - seen):
        errors.append(
            ErrorItem(
                path="/body/parameters",
                code="undeclared_parameter",
                message=f"the definition uses ${{param.{name}}} but declares no parameter {name!r}",
            )
        )
    return errors


def parameter_values(
    parameters: Sequence[TemplateParameter], given: Mapping[str, Any]
) -> tuple[dict[str, Any], list[ErrorItem]]:
    """Every parameter's value (given, else its default) and the problems with ``given``."""
    declared = {parameter.name: parameter for parameter in parameters}
    known = ", ".join(declared) or "none"
    errors = [
        ErrorItem(
            path=f"/body/parameters/{name}",
            code="unknown_parameter",
            message=f"the template has no parameter {name!r} (it has: {known})",
        )
        for name in given
        if name not in declared
    ]
    values: dict[str, Any] = {}
    for name, parameter in declared.items():
        if name in given:
            values[name] = given[name]
        elif parameter.required:
            errors.append(
                ErrorItem(
                    path=f"/body/parameters/{name}",
                    code="missing_parameter",
                    message=f"parameter {name!r} is required: {parameter.description}".rstrip(": "),
                )
            )
        else:
            values[name] = parameter.default
    return values, errors

"""The ``validate`` node: check data against a JSON Schema and CEL rules."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, SchemaError
from pydantic import Field, field_validator, model_validator
from temporalio import activity

from interpreter.activities.base import ActivityRequest, node_activity
from interpreter.activities.validate.violations import (
    Violation,
    failure,
    schema_violations,
)
from interpreter.dsl.expressions import evaluate
from interpreter.dsl.node_config import NodeConfig, config_error, parse_config
from interpreter.dsl.pointer import pointer
from interpreter.dsl.schemas import SchemaRefused
from interpreter.errors import EvaluationError, ExpressionSyntaxError, ExpressionTooCostly


class Rule(NodeConfig):
    """A CEL expression over ``data`` (and the run's variables) that must be true."""

    expr: str = Field(min_length=1, max_length=4096)
    message: str = Field(min_length=1, max_length=1000)


class ValidateConfig(NodeConfig):
    """Config of a ``validate`` node.

    Attributes:
        data: The value to check (usually one template hole).
        schema_: JSON Schema 2020-12 (key ``schema``); ``format`` is asserted;
            only local ``$ref`` (``#/$defs/...``) resolve.
        rules: Checked in addition to the schema; every failing rule is reported.
    """

    data: Any
    schema_: dict[str, Any] | bool | None = Field(default=None, alias="schema")
    rules: list[Rule] = Field(default_factory=list, max_length=100)

    @field_validator("schema_")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any] | bool | None) -> dict[str, Any] | bool | None:
        if schema is not None:
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                raise ValueError(
                    f"not a valid JSON Schema: {exc.message} (at {pointer(exc.path) or '/'})"
                ) from None
        return schema

    @model_validator(mode="after")
    def _something_to_check(self) -> ValidateConfig:
        if self.schema_ is None and not self.rules:
            raise ValueError("set a schema, rules, or both")
        return self


class ValidateActivity:
    """See :meth:`validate`."""

    @activity.defn(name="validate")
    @node_activity
    async def validate(self, request: ActivityRequest) -> dict[str, bool]:
        """Output ``{valid: true}``, or fail with every violation listed.

        Raises:
            ValidationFailed: the data broke the schema or a rule (not retryable).
            ConfigError: the schema has an unresolvable ``$ref``, or a rule is
                not valid CEL or does not yield a bool.
        """
        config = parse_config(ValidateConfig, request.config, request.node_id)
        violations: list[Violation] = []
        if config.schema_ is not None:
            try:
                violations += schema_violations(config.schema_, config.data)
            except SchemaRefused as exc:
                raise config_error(
                    request.node_id,
                    "config.schema",
                    f"{exc.keyword} {exc.ref!r} does not resolve; remote references are disabled, "
                    "so put referenced schemas under $defs",
                ) from None
        variables = {**request.context, "data": config.data}
        for index, rule in enumerate(config.rules):
            if not _holds(rule, index, variables, request.node_id):
                violations.append({"path": "", "message": rule.message, "rule": rule.expr})
        if violations:
            raise failure(violations)
        return {"valid": True}


def _holds(rule: Rule, index: int, variables: dict[str, Any], node_id: str) -> bool:
    field = f"config.rules[{index}].expr"
    try:
        value = evaluate(rule.expr, variables)
    except ExpressionSyntaxError as exc:
        raise config_error(node_id, field, str(exc)) from None
    except ExpressionTooCostly as exc:
        # Not a rule the data fails: the rule cannot be checked at all.
        raise ExpressionTooCostly(
            f"node {node_id!r}: {field}: {exc}", details={**exc.details, "field": field}
        ) from None
    except EvaluationError:
        # Data that lacks what a rule reads (a missing key) does not satisfy it.
        return False
    if not isinstance(value, bool):
        raise config_error(
            node_id, field, f"must evaluate to true or false, got {type(value).__name__}"
        )
    return value

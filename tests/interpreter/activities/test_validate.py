"""The validate node reports every schema and rule violation at once."""

from __future__ import annotations

from typing import Any

import pytest

from interpreter.activities import ValidateActivity, ValidateConfig
from tests.support.activities import fail, node_request, run
from tests.support.peer import Peer

pytestmark = pytest.mark.fast

LEAD_SCHEMA = {
    "type": "object",
    "required": ["email", "score"],
    "properties": {
        "email": {"type": "string", "format": "email"},
        "score": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}},
    },
    "$defs": {"tag": {"type": "string", "maxLength": 5}},
}


def validate_request(config: dict[str, Any], context: dict[str, Any] | None = None) -> Any:
    return node_request(config, node_type="validate", context=context)


async def test_valid_data_passes() -> None:
    config = {
        "data": {"email": "ada@example.com", "score": 90, "tags": ["hot"]},
        "schema": LEAD_SCHEMA,
        "rules": [{"expr": "data.score > input.min_score", "message": "score too low"}],
    }

    output = await run(
        ValidateActivity().validate, validate_request(config, {"input": {"min_score": 50}})
    )

    assert output == {"valid": True}


async def test_every_violation_is_listed() -> None:
    config = {
        "data": {"email": "not-an-email", "score": -1, "tags": ["ok", "far-too-long"]},
        "schema": LEAD_SCHEMA,
        "rules": [
            {"expr": "data.score > input.min_score", "message": "score must beat the minimum"},
            {"expr": "size(data.tags) > 0", "message": "needs a tag"},
            {"expr": "data.country == 'US'", "message": "must be a US lead"},
        ],
    }

    error = await fail(
        ValidateActivity().validate, validate_request(config, {"input": {"min_score": 50}})
    )

    assert error.type == "ValidationFailed"
    assert error.non_retryable
    violations = error.details[0]["violations"]
    assert [(v["path"], v["message"]) for v in violations] == [
        ("/email", "'not-an-email' is not a 'email'"),
        ("/score", "-1 is less than the minimum of 0"),
        ("/tags/1", "'far-too-long' is too long"),
        ("", "score must beat the minimum"),
        ("", "must be a US lead"),
    ]
    assert violations[3]["rule"] == "data.score > input.min_score"
    assert "(5 violation(s))" in error.message
    assert "/score: -1 is less than the minimum of 0" in error.message
    assert "(root): must be a US lead" in error.message


async def test_missing_property_is_reported_at_the_root() -> None:
    error = await fail(
        ValidateActivity().validate, validate_request({"data": {}, "schema": LEAD_SCHEMA})
    )

    paths = [(v["path"], v["message"]) for v in error.details[0]["violations"]]
    assert paths == [("", "'email' is a required property"), ("", "'score' is a required property")]


async def test_remote_ref_is_refused_without_a_request(peer: Peer) -> None:
    schema = {"$ref": f"{peer.url}/schema.json"}

    error = await fail(ValidateActivity().validate, validate_request({"data": 1, "schema": schema}))

    assert error.type == "ConfigError"
    assert error.non_retryable
    assert error.message == (
        f"node 'call': config.schema: $ref '{peer.url}/schema.json' does not resolve; "
        "remote references are disabled, so put referenced schemas under $defs"
    )
    assert not peer.requests


async def test_bad_schema_is_a_config_error() -> None:
    config = {"data": 1, "schema": {"type": "integer", "minimum": "zero"}}

    error = await fail(ValidateActivity().validate, validate_request(config))

    assert error.type == "ConfigError"
    assert error.message.startswith(
        "node 'call': config.schema: not a valid JSON Schema: 'zero' is not of type 'number'"
    )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"expr": "data +", "message": "m"}, "config.rules[0].expr: bad expression"),
        ({"expr": "data", "message": "m"}, "config.rules[0].expr: must evaluate to true or false"),
    ],
)
async def test_bad_rules_are_config_errors(rule: dict[str, str], message: str) -> None:
    error = await fail(ValidateActivity().validate, validate_request({"data": 1, "rules": [rule]}))

    assert error.type == "ConfigError"
    assert error.message.startswith(f"node 'call': {message}")


def test_config_needs_a_schema_or_rules() -> None:
    with pytest.raises(ValueError, match="set a schema, rules, or both"):
        ValidateConfig.model_validate({"data": 1})

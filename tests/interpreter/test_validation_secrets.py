"""A secret may only be used whole: every other expression over ``secrets`` is refused at save."""

from __future__ import annotations

from typing import Any

import pytest

from interpreter.validation.definition import validate_definition
from interpreter.validation.issues import ValidationIssue

pytestmark = pytest.mark.fast

URL = "https://api.example.com/x"


def http(node_id: str = "call", **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "http", "config": {"url": URL, **config}}


def definition(*nodes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "secrets", "nodes": list(nodes), **extra}


def found(raw: dict[str, Any]) -> list[ValidationIssue]:
    parsed, issues = validate_definition(raw)
    assert (parsed is None) == bool(issues)
    return issues


@pytest.mark.parametrize(
    "config",
    [
        {"headers": {"X-Api-Key": "{{ secrets.s1 }}"}},
        {"headers": {"X-Api-Key": "{{secrets.s1}}"}},
        {"headers": {"X-Api-Key": '{{ secrets["s1"] }}'}},
        {"headers": {"X-Api-Key": "{{ secrets['s1'] }}"}},
        {"headers": {"Authorization": "Bearer {{ secrets.token }}"}},
        {"headers": {"X": "{{ secrets.a }}:{{ secrets.b }}-{{ input.id }}"}},
        {"auth": {"type": "bearer", "token": "{{ secrets.token }}"}},
        {"auth": {"type": "basic", "username": "u", "password": "{{ secrets.pw }}"}},
        {"auth": {"type": "api_key", "key": "{{ secrets.k }}", "header": "X-Key"}},
        {"url": URL + "?k={{ secrets.k }}", "body": {"nested": ["{{ secrets.k }}"]}},
    ],
)
def test_a_whole_secret_hole_is_allowed(config: dict[str, Any]) -> None:
    assert found(definition(http(**config))) == []


def test_a_whole_secret_hole_is_allowed_in_a_webhook() -> None:
    hook = {
        "id": "hook",
        "type": "webhook",
        "config": {"url": URL, "secret": "{{ secrets.k }}", "headers": {"X": "{{ secrets.k }}"}},
    }
    assert found(definition(hook)) == []


@pytest.mark.parametrize(
    "hole",
    [
        "bytes(secrets.s1)",
        "size(secrets.s1)",
        "secrets.s1.size()",
        "secrets.s1.matches('^a')",
        "secrets.s1.startsWith('a')",
        "string(secrets.s1)",
        "secrets.s1 + 'x'",
        "secrets.s1 == 'guess'",
        "'a' in secrets",
        "secrets",
        "(secrets.s1)",
        "secrets[secrets.s1]",
        "secrets['s' + '1']",
        "secrets.s1.x",
        "has(secrets.s1)",
        "[secrets.s1]",
        "{'k': secrets.s1}",
        "secrets.s1 != '' ? 'yes' : 'no'",
    ],
)
def test_any_other_expression_over_a_secret_is_refused_where_it_is(hole: str) -> None:
    raw = definition(http(headers={"X-Api-Key": "{{ " + hole + " }}", "Ok": "{{ secrets.s1 }}"}))

    (issue,) = found(raw)

    assert (issue.path, issue.code) == ("/nodes/0/config/headers/X-Api-Key", "secret_in_expression")
    assert "{{ secrets.NAME }}" in issue.message
    assert "used whole" in issue.message


def test_inside_a_string_and_in_an_auth_block_too() -> None:
    raw = definition(
        http(
            headers={"Authorization": "Bearer {{ bytes(secrets.token) }}"},
            auth={"type": "bearer", "token": "{{ size(secrets.token) }}"},
        )
    )
    assert {(i.path, i.code) for i in found(raw)} == {
        ("/nodes/0/config/headers/Authorization", "secret_in_expression"),
        ("/nodes/0/config/auth/token", "secret_in_expression"),
    }


def test_a_dynamic_index_reading_another_name_is_refused() -> None:
    (issue,) = found(definition(http(headers={"X": "{{ secrets[input.name] }}"})))

    assert (issue.path, issue.code) == ("/nodes/0/config/headers/X", "misplaced_name")
    assert "{{ secrets.NAME }}" in issue.message


def test_secrets_outside_an_http_or_webhook_config_is_refused_everywhere() -> None:
    call = {**http("a"), "when": "size(secrets.s1) > 3", "output": "{{ secrets.s1 }}"}
    body = {"nodes": [{"id": "t", "type": "transform", "config": {"value": "{{ secrets.s1 }}"}}]}
    raw = definition(
        call,
        {"id": "b", "type": "transform", "config": {"value": "{{ bytes(secrets.s1) }}"}},
        {"id": "c", "type": "condition", "config": {"expr": "secrets.s1 == 'x'"}},
        {
            "id": "d",
            "type": "switch",
            "config": {"cases": [{"when": "secrets.s1.matches('^a')", "value": 1}]},
        },
        {"id": "e", "type": "for_each", "config": {"items": "[secrets.s1]", "body": body}},
        {
            "id": "f",
            "type": "validate",
            "config": {"data": {}, "rules": [{"expr": "size(secrets.s1) > 0", "message": "m"}]},
        },
        edges=[{"from": "a", "to": "b", "when": "secrets.s1 == 'x'"}],
        output="{{ bytes(secrets.s1) }}",
    )

    issues = found(raw)

    assert {(i.path, i.code) for i in issues} == {
        ("/nodes/0/when", "misplaced_name"),
        ("/nodes/0/output", "misplaced_name"),
        ("/nodes/1/config/value", "misplaced_name"),
        ("/nodes/2/config/expr", "misplaced_name"),
        ("/nodes/3/config/cases/0/when", "misplaced_name"),
        ("/nodes/4/config/items", "misplaced_name"),
        ("/nodes/4/config/body/nodes/0/config/value", "misplaced_name"),
        ("/nodes/5/config/rules/0/expr", "misplaced_name"),
        ("/edges/0/when", "misplaced_name"),
        ("/output", "misplaced_name"),
    }
    assert all("as a whole hole {{ secrets.NAME }}" in i.message for i in issues)

"""Pricing CEL before it runs: the hostile expressions over, everyday ones under."""

from __future__ import annotations

from typing import Any

import pytest

from interpreter.dsl.cost import comprehension_depth, estimate, measure, syntax
from interpreter.dsl.expressions import (
    DEFAULT_COST_LIMIT,
    LIMITS,
    ExpressionLimits,
    evaluate,
    expression_cost,
)
from interpreter.errors import EvaluationError, ExpressionTooCostly, NodeFailure
from interpreter.validation.definition import Limits, validate_definition

pytestmark = pytest.mark.fast

RECORDS = [
    {"id": i, "name": f"item {i}", "tags": ["a", "b"], "ok": i % 2 == 0} for i in range(1000)
]


def price(source: str, **variables: Any) -> float:
    return expression_cost(source, variables)


def test_the_hostile_expression_is_priced_far_over_the_limit() -> None:
    hostile = "size(l.map(a, l.map(b, l.map(c, 1))))"
    assert price(hostile, l=list(range(100))) > 50 * DEFAULT_COST_LIMIT
    with pytest.raises(ExpressionTooCostly) as info:
        evaluate(hostile, {"l": list(range(100))})
    assert "FLOWFORGE_EXPRESSION_COST_LIMIT" in str(info.value)
    assert info.value.details["limit"] == DEFAULT_COST_LIMIT


@pytest.mark.parametrize(
    ("source", "variables"),
    [
        ("l.map(x, x * 2)", {"l": list(range(1000))}),
        ("r.map(x, x.id)", {"r": RECORDS}),
        ("size(r.filter(x, x.ok)) > 10", {"r": RECORDS[:200]}),
        ("r.all(x, x.tags.exists(t, t == 'a'))", {"r": RECORDS}),
        ("l.exists(x, x == 999)", {"l": list(range(100_000))}),
        (
            "o.orders.map(o, o.lines.map(l, l.qty))",
            {"o": {"orders": [{"lines": [{"qty": 1}] * 5}] * 200}},
        ),
        ("input.name + ' ' + string(input.n)", {"input": {"name": "ada", "n": 7}}),
    ],
)
def test_everyday_expressions_stay_well_under_the_limit(
    source: str, variables: dict[str, Any]
) -> None:
    assert price(source, **variables) < DEFAULT_COST_LIMIT / 2
    evaluate(source, variables)


def test_the_price_grows_with_the_values_read_and_is_deterministic() -> None:
    small = price("l.map(a, l)", l=list(range(10)))
    assert small == price("l.map(a, l)", l=list(range(10)))
    assert price("l.map(a, l)", l=list(range(100))) > 100 * small
    # a long string copied at every step costs by its length
    assert price("l.map(a, s)", l=list(range(300)), s="x" * 100_000) > DEFAULT_COST_LIMIT


def test_the_limit_travels_with_the_variables() -> None:
    variables: dict[str, Any] = {
        "l": list(range(100)),
        LIMITS: {"cost": 1000, "result_bytes": 10**6},
    }
    with pytest.raises(ExpressionTooCostly):
        evaluate("l.map(x, x)", variables)
    assert ExpressionLimits.of(variables) == ExpressionLimits(1000, 10**6)
    assert ExpressionLimits.of({}) == ExpressionLimits()
    assert evaluate("l.map(x, x)", {"l": list(range(100))}) == list(range(100))


def test_a_result_over_the_byte_limit_is_refused() -> None:
    variables = {"l": list(range(100)), LIMITS: {"cost": 10**9, "result_bytes": 1024}}
    with pytest.raises(ExpressionTooCostly) as info:
        evaluate("l.map(x, 'abcdefghijklmnop')", variables)
    assert "FLOWFORGE_EXPRESSION_RESULT_BYTES" in str(info.value)


def test_too_costly_is_an_evaluation_error_and_a_node_failure_never_retried() -> None:
    error = ExpressionTooCostly("x")
    assert isinstance(error, EvaluationError)
    assert isinstance(error, NodeFailure)
    assert not error.retryable


@pytest.mark.parametrize(
    "source",
    [
        "a.b.c[0]['k'] == 3 && !x || y in [1, 2] ? {'a': 1, 'b': [x]} : -z",
        "size(x) > 1 && x.startsWith('a') // a comment",
        "1e-3 * 2.0 + double(x) - 3u % 2",
        "l.map(x, x > 1, x * 2)",
        "google.protobuf.Int64Value{value: 1}",
        "has(a.b) ? r'raw' : b'bytes' + '''long'''",
        ".input.x",
    ],
)
def test_the_parser_reads_what_cel_compiles(source: str) -> None:
    assert syntax(source) is not None


def test_comprehension_depth() -> None:
    assert comprehension_depth("l.map(a, l.map(b, l.map(c, 1)))") == 3
    assert comprehension_depth("l.map(a, 1).map(b, 2)") == 1
    assert comprehension_depth("1 + 2") == 0


def test_measure_is_iterative_and_counts_by_depth() -> None:
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    assert measure(deep).size == 5001
    found = measure({"items": [[1, 2, 3], [4]]})
    assert found.counts == (1, 2, 3)
    assert estimate("unparsable ) (", {}) is None
    # what the parser cannot read is priced as if every macro nested in the one before
    assert expression_cost("l.map(a, l.map(b, 1)) ) (", {"l": list(range(100))}) > 101**4


def test_save_refuses_an_expression_too_costly_whatever_its_variables_hold() -> None:
    literal = "[" + ",".join(str(i) for i in range(100)) + "]"
    hostile = f"{{{{ size({literal}.map(a, {literal}.map(b, {literal}.map(c, 1)))) }}}}"
    definition = {
        "name": "x",
        "nodes": [
            {"id": "t", "type": "transform", "config": {"value": {"v": hostile}}},
            {
                "id": "u",
                "type": "transform",
                "config": {"value": "{{ input.l.map(a, input.l.map(b, 1)) }}"},
            },
        ],
    }
    _, issues = validate_definition(definition)
    assert [(i.path, i.code) for i in issues] == [("/nodes/0/config/value/v", "too_costly")]
    assert "FLOWFORGE_EXPRESSION_COST_LIMIT" in issues[0].message
    _, issues = validate_definition(definition, Limits(expression_cost_limit=10**12))
    assert issues == []

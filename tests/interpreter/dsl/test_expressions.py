"""CEL expressions: compilation, evaluation, JSON results and the names they read."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from interpreter.dsl.expressions import (
    FUNCTIONS,
    ROOT_NAMES,
    compile_expression,
    evaluate,
    evaluate_bool,
    node_references,
    root_names,
    to_json,
    unknown_functions,
)
from interpreter.errors import EvaluationError, ExpressionError, ExpressionSyntaxError

pytestmark = pytest.mark.fast


def test_compiled_programs_are_cached_by_source() -> None:
    first = compile_expression("input.cached_probe + 1")
    assert compile_expression("input.cached_probe + 1") is first
    assert compile_expression("input.cached_probe + 2") is not first


@pytest.mark.parametrize(
    ("source", "position"),
    [
        ("a +", (1, 4)),
        ("  foo bar", (1, 7)),
        ("a\n+ +", (2, 3)),
        ("1 +\n\n  )", (3, 3)),
        ("'éé' + ", (1, 8)),
    ],
)
def test_a_syntax_error_carries_its_line_and_column(source: str, position: tuple[int, int]) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression(source)
    assert caught.value.position == position
    assert str(caught.value).startswith(f"bad expression {source!r}: Syntax error")


@pytest.mark.parametrize("source", ["", "   ", "'unterminated", "x ? y", "(" * 300])
def test_malformed_sources_are_syntax_errors(source: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_expression(source)


def test_a_non_string_source_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(ExpressionSyntaxError, match="must be a string"):
        compile_expression(42)


def test_a_huge_bad_expression_is_shortened_in_the_message() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression("1 + " * 2000 + "+")
    assert len(str(caught.value)) < 600
    assert "..." in str(caught.value)


@pytest.mark.parametrize(
    ("source", "variables", "expected"),
    [
        ("1 + 2 * 3", {}, 7),
        ("input.a.b", {"input": {"a": {"b": [1, 2]}}}, [1, 2]),
        ("'Hello, ' + input.name", {"input": {"name": "Ada"}}, "Hello, Ada"),
        ("input.n > 3 && input.s == 'x'", {"input": {"n": 4, "s": "x"}}, True),
        ("null", {}, None),
        ("2.5 * 2.0", {}, 5.0),
        ("1u + 2u", {}, 3),
        ("[1, 'a', null, 2.5, true]", {}, [1, "a", None, 2.5, True]),
        ("input.xs.map(x, x * 2)", {"input": {"xs": [1, 2, 3]}}, [2, 4, 6]),
        ("input.xs.filter(x, x > 1).size()", {"input": {"xs": [1, 2, 3]}}, 2),
        ("input.xs.exists(x, x == 2)", {"input": {"xs": [1, 2, 3]}}, True),
        ("has(input.a) && !has(input.b)", {"input": {"a": 1}}, True),
        ("nodes['get'].output.status", {"nodes": {"get": {"output": {"status": 200}}}}, 200),
        ("run.attempt", {"run": {"attempt": 2}}, 2),
        ("optional.of(5)", {}, 5),
        ("optional.none()", {}, None),
        ("b'abc'", {}, "YWJj"),
    ],
)
def test_evaluate_returns_plain_json_data(
    source: str, variables: dict[str, Any], expected: Any
) -> None:
    result = evaluate(source, variables)
    assert result == expected
    assert type(result) is type(expected)


def test_cel_maps_come_back_with_sorted_keys() -> None:
    result = evaluate("{'zeta': 1, 'alpha': {'y': 2, 'b': 3}, 'mid': 0}", {})
    assert list(result) == ["alpha", "mid", "zeta"]
    assert list(result["alpha"]) == ["b", "y"]


def test_maps_from_the_variables_come_back_sorted_too() -> None:
    result = evaluate("input", {"input": {"b": 1, "a": {"d": 1, "c": 2}}})
    assert list(result) == ["a", "b"]
    assert list(result["a"]) == ["c", "d"]


def test_evaluate_does_not_mutate_the_variables() -> None:
    variables = {"input": {"xs": [3, 1]}}
    evaluate("input.xs.map(x, x + 1)", variables)
    assert variables == {"input": {"xs": [3, 1]}}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("duration('8760h')", "31536000s"),
        ("duration('1.5s')", "1.5s"),
        ("duration('500ms')", "0.5s"),
        ("duration('-90s')", "-90s"),
        ("duration('0s')", "0s"),
        ("duration('1us')", "0.000001s"),
    ],
)
def test_durations_render_exactly_without_an_exponent(source: str, expected: str) -> None:
    assert evaluate(source, {}) == expected


def test_timestamps_render_as_iso_8601() -> None:
    assert evaluate("timestamp('2024-01-02T03:04:05Z')", {}) == "2024-01-02T03:04:05+00:00"


@pytest.mark.parametrize(
    ("source", "variables", "fragment"),
    [
        ("input.missing", {"input": {}}, "no such key: missing"),
        ("input + 1", {"input": "x"}, "string + int"),
        ("1 / 0", {}, "division by zero"),
        ("input[5]", {"input": [1]}, "index out of bounds"),
        ("9223372036854775807 + 1", {}, "overflow"),
        ("int('x')", {}, "int"),
        ("nope", {}, "Undefined variable or function: 'nope'"),
        ("input.matches('(')", {"input": "x"}, "not a valid regex"),
        ("1.0 / 0.0", {}, "not a finite number"),
        ("input", {"input": math.nan}, "not a finite number"),
    ],
)
def test_every_runtime_failure_is_an_evaluation_error_naming_the_expression(
    source: str, variables: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(EvaluationError) as caught:
        evaluate(source, variables)
    assert str(caught.value).startswith(repr(source))
    assert fragment in str(caught.value)
    assert isinstance(caught.value, ExpressionError)


def test_type_errors_drop_the_library_hint() -> None:
    with pytest.raises(EvaluationError) as caught:
        evaluate("input + 1", {"input": "x"})
    assert "CEL does not coerce" not in str(caught.value)


def test_evaluate_reports_syntax_errors_as_such() -> None:
    with pytest.raises(ExpressionSyntaxError):
        evaluate("1 +", {})


def test_evaluate_bool_accepts_only_bools() -> None:
    assert evaluate_bool("input.n > 1", {"input": {"n": 2}}) is True
    assert evaluate_bool("!true", {}) is False
    with pytest.raises(EvaluationError, match="expected a bool, got int"):
        evaluate_bool("1", {})
    with pytest.raises(EvaluationError, match="expected a bool, got NoneType"):
        evaluate_bool("null", {})
    with pytest.raises(EvaluationError, match="expected a bool, got str"):
        evaluate_bool("'true'", {})


def test_to_json_converts_every_cel_value_kind() -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    value = {
        "when": moment,
        "wait": timedelta(minutes=2, milliseconds=250),
        "raw": b"\x00\x01",
        "pair": (1, 2),
        True: "yes",
        2: "two",
    }
    assert to_json(value) == {
        "2": "two",
        "pair": [1, 2],
        "raw": "AAE=",
        "true": "yes",
        "wait": "120.25s",
        "when": "2024-05-06T07:08:09+00:00",
    }


def test_to_json_refuses_floats_that_json_cannot_hold() -> None:
    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(ValueError, match="not a finite number"):
            to_json([1.0, {"x": bad}])


class TestRootNames:
    def test_free_variables(self) -> None:
        assert root_names("input.a + nodes.b.output + run.id") == {"input", "nodes", "run"}

    def test_macro_variables_are_not_roots(self) -> None:
        source = "nodes.a.output.map(x, x * 2).filter(y, y > input.min)"
        assert root_names(source) == {"nodes", "input"}

    def test_macro_variables_may_reuse_a_root_name(self) -> None:
        assert root_names("input.xs.map(result, result.id)") == {"input"}

    def test_type_names_and_namespaces_are_not_roots(self) -> None:
        assert root_names("type(input.x) == int || optional.of(1) == optional.none()") == {"input"}

    def test_names_inside_string_literals_are_text(self) -> None:
        assert root_names("'secrets.token ' + input.a") == {"input"}

    def test_unknown_names_are_reported_too(self) -> None:
        assert root_names("foo.bar + input") == {"foo", "input"}

    def test_uncompilable_source_raises(self) -> None:
        with pytest.raises(ExpressionSyntaxError):
            root_names("input +")

    def test_every_documented_root_is_known(self) -> None:
        documented = {"input", "nodes", "run", "item", "index", "result", "secrets", "data"}
        assert documented == ROOT_NAMES


class TestNodeReferences:
    @pytest.mark.parametrize(
        ("source", "refs"),
        [
            ("nodes.a.output", {"a"}),
            ("nodes . a . output", {"a"}),
            ("nodes['b'].output", {"b"}),
            ('nodes["c"].status', {"c"}),
            ("nodes['''d'''].error", {"d"}),
            ("nodes[r'e'].output", {"e"}),
            ("nodes.a.output + nodes['b'].output + nodes.a.status", {"a", "b"}),
            ("nodes.list.output.map(x, x.id)", {"list"}),
            ("has(nodes.a.output.body)", {"a"}),
            ("input.a + 1", set()),
            ("input.nodes.b", set()),
            ("'nodes.fake' + nodes.real.status", {"real"}),
            ("\"nodes['x']\" == input.s", set()),
        ],
    )
    def test_literal_references(self, source: str, refs: set[str]) -> None:
        assert node_references(source) == frozenset(refs)

    @pytest.mark.parametrize(
        "source",
        [
            "nodes[input.key].output",
            "nodes['a' + input.suffix].output",
            "nodes",
            "size(nodes) > 0",
            "'a' in nodes",
            "nodes.exists(k, k == 'a')",
            "nodes[b'a'].output",
            "input.xs.map(nodes, nodes.a)",
        ],
    )
    def test_anything_else_is_dynamic(self, source: str) -> None:
        assert node_references(source) is None


_TS = "timestamp('2020-03-04T05:06:07.089Z')"
_CALLS = {
    "size": "size('ab') == 2",
    "contains": "'ab'.contains('b')",
    "startsWith": "'ab'.startsWith('a')",
    "endsWith": "'ab'.endsWith('b')",
    "matches": "'ab'.matches('^a')",
    "type": "type(1) == int",
    "dyn": "dyn(1) == 1",
    "int": "int('1') == 1",
    "uint": "uint(1) == 1u",
    "double": "double(1) == 1.0",
    "string": "string(1) == '1'",
    "bytes": "bytes('a') == b'a'",
    "timestamp": f"{_TS} > timestamp('2020-01-01T00:00:00Z')",
    "duration": "duration('1s') > duration('0s')",
    "getFullYear": f"{_TS}.getFullYear() == 2020",
    "getMonth": f"{_TS}.getMonth() == 2",
    "getDate": f"{_TS}.getDate() == 4",
    "getDayOfMonth": f"{_TS}.getDayOfMonth() == 3",
    "getDayOfWeek": f"{_TS}.getDayOfWeek() == 3",
    "getDayOfYear": f"{_TS}.getDayOfYear() == 63",
    "getHours": f"{_TS}.getHours() == 5",
    "getMinutes": f"{_TS}.getMinutes() == 6",
    "getSeconds": f"{_TS}.getSeconds() == 7",
    "getMilliseconds": f"{_TS}.getMilliseconds() == 89",
    "of": "optional.of(1).value() == 1",
    "none": "!optional.none().hasValue()",
    "ofNonZeroValue": "!optional.ofNonZeroValue(0).hasValue()",
    "orValue": "optional.none().orValue(2) == 2",
    "hasValue": "optional.of(1).hasValue()",
    "value": "optional.of(3).value() == 3",
    "or": "optional.none().or(optional.of(4)).value() == 4",
}


def test_the_known_functions_are_the_bindings_own() -> None:
    """Each function save-time checks accept really runs, so the list cannot drift."""
    assert set(_CALLS) == FUNCTIONS
    for name, source in _CALLS.items():
        assert evaluate(source, {}) is True, name
        assert unknown_functions(source) == frozenset(), name


def test_unknown_functions_leave_out_operators_and_macros() -> None:
    source = "x.map(a, a.lowerAscii()).filter(b, b in ['a']).size() + -y % 2 > 0 ? !z : foo()"
    assert unknown_functions(source) == {"lowerAscii", "foo"}

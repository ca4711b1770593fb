"""The definition validator: every problem at once, each with a JSON pointer and a code."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from interpreter.dsl.definition import Definition
from interpreter.dsl.durations import parse_duration
from interpreter.dsl.schemas import SchemaRefused, schema_errors
from interpreter.nodes.registry import kind_of
from interpreter.validation.definition import Limits, validate_definition
from interpreter.validation.issues import ValidationIssue

pytestmark = pytest.mark.fast

_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = _ROOT / "docs" / "examples"


def node(node_id: str, node_type: str = "transform", **fields: Any) -> dict[str, Any]:
    if node_type == "transform":
        fields.setdefault("config", {"value": 1})
    return {"id": node_id, "type": node_type, **fields}


def http(node_id: str, **config: Any) -> dict[str, Any]:
    return node(node_id, "http", config={"url": "https://api.example.com/x", **config})


def edge(source: str, target: str, **fields: Any) -> dict[str, Any]:
    return {"from": source, "to": target, **fields}


def definition(
    *nodes: dict[str, Any], edges: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"name": "test", "nodes": list(nodes), "edges": edges or [], **extra}


def issues(raw: Any, limits: Limits | None = None) -> list[ValidationIssue]:
    parsed, found = validate_definition(raw, limits)
    assert (parsed is None) == bool(found), "a definition is returned exactly when it is valid"
    return found


def codes(raw: Any, limits: Limits | None = None) -> set[tuple[str, str]]:
    return {(issue.path, issue.code) for issue in issues(raw, limits)}


def only(raw: Any) -> ValidationIssue:
    (issue,) = issues(raw)
    return issue


def _example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


class TestExamples:
    def test_order_fulfilment_validates_cleanly(self) -> None:
        parsed, found = validate_definition(_example("order-fulfilment"))
        assert found == []
        assert isinstance(parsed, Definition)
        assert [n.id for n in parsed.nodes] == [
            "check",
            "reserve",
            "charge",
            "ship",
            "refund",
            "summary",
        ]

    @pytest.mark.parametrize("name", ["enrich-users", "expense-approval"])
    def test_the_other_examples_validate_cleanly(self, name: str) -> None:
        parsed, found = validate_definition(_example(name))
        assert found == []
        assert isinstance(parsed, Definition)


def test_a_minimal_definition_is_valid_and_parsed() -> None:
    parsed, found = validate_definition(definition(node("a")))
    assert found == []
    assert parsed is not None
    assert parsed.nodes[0].config == {"value": 1}


def test_validation_is_deterministic_and_leaves_the_input_alone() -> None:
    raw = definition(node("a", when="nodes.b.output"), node("b", "nope"), edges=[edge("a", "x")])
    before = copy.deepcopy(raw)
    assert issues(raw) == issues(raw)
    assert raw == before


def test_one_bad_definition_reports_every_problem_with_its_path_and_code() -> None:
    raw = {
        "name": "everything-wrong",
        "colour": "blue",
        "timeout": "forever",
        "input_schema": {
            "type": "object",
            "properties": {"n": {"type": "integer", "minimum": "0"}},
        },
        "nodes": [
            http("get", method="TELEPORT"),
            node("a", "teleport"),
            node("get"),
            node("b", config={"value": "{{ nodes.ghost.output }}"}),
            node("c", config={"value": "{{ 1 + }}"}),
            node("d", config={"value": "{{ secrets.key }}"}),
            node("e", when="result.ok"),
            node("f", config={"value": "{{ nodes[input.which].output }}"}),
            node("g", config={"value": "{{ nodes.h.output }}"}),
            node("h", timeout="soon"),
            node("i", config={"value": "{{ mystery }}"}),
            node("j"),
            node("k"),
            node("l"),
            node("m", config={"value": "{{ item }}"}),
            node("n", output="{{ data }}"),
            node("Bad-Id"),
        ],
        "edges": [
            edge("get", "nowhere"),
            edge("j", "k"),
            edge("k", "j"),
            edge("k", "l"),
            edge("get", "b", on="sometimes"),
            {"to": "c"},
        ],
    }
    assert codes(raw) == {
        ("/colour", "unknown_field"),
        ("/timeout", "bad_duration"),
        ("/nodes/9/timeout", "bad_duration"),
        ("/nodes/16/id", "invalid"),
        ("/edges/4/on", "invalid"),
        ("/edges/5/from", "required"),
        ("/input_schema/properties/n/minimum", "invalid_schema"),
        ("/nodes/0/config/method", "invalid_config"),
        ("/nodes/1/type", "unknown_type"),
        ("/nodes/2/id", "duplicate_id"),
        ("/edges/0/to", "unknown_node"),
        ("/edges/2", "cycle"),
        ("/nodes/13", "unreachable"),
        ("/nodes/3/config/value", "unknown_reference"),
        ("/nodes/4/config/value", "bad_expression"),
        ("/nodes/5/config/value", "misplaced_name"),
        ("/nodes/6/when", "misplaced_name"),
        ("/nodes/7/config/value", "dynamic_reference"),
        ("/nodes/8/config/value", "not_upstream"),
        ("/nodes/10/config/value", "unknown_name"),
        ("/nodes/14/config/value", "misplaced_name"),
        ("/nodes/15/output", "misplaced_name"),
    }
    for issue in issues(raw):
        assert _resolves(raw, issue.path, missing_ok=issue.code == "required"), issue


def _resolves(document: Any, path: str, *, missing_ok: bool = False) -> bool:
    """Whether the JSON pointer ``path`` names a place in ``document``."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    for position, part in enumerate(parts):
        if isinstance(document, dict) and part in document:
            document = document[part]
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return missing_ok and position == len(parts) - 1 and isinstance(document, dict)
    return True


def test_issues_have_messages_that_say_what_is_wrong() -> None:
    for issue in issues(
        definition(node("a", "nope"), node("a"), edges=[edge("a", "zz"), edge("a", "a")])
    ):
        assert issue.message
        assert issue.path.startswith("/")


class TestLimits:
    def test_over_the_byte_limit_is_one_too_large_issue(self) -> None:
        raw = definition(node("a"), description="x" * 5000, bogus=1)
        limits = Limits(max_definition_bytes=4096)
        (issue,) = issues(raw, limits)
        assert (issue.path, issue.code) == ("", "too_large")
        assert "4096" in issue.message

    def test_the_byte_limit_counts_compact_utf8(self) -> None:
        compact = len(json.dumps(definition(node("a")), separators=(",", ":")).encode())
        padding = 2048 - compact - len(',"description":""')
        assert (
            issues(
                definition(node("a"), description="x" * padding), Limits(max_definition_bytes=2048)
            )
            == []
        )
        over = definition(node("a"), description="x" * (padding + 1))
        assert codes(over, Limits(max_definition_bytes=2048)) == {("", "too_large")}
        # "é" is two bytes in UTF-8 (six if it were escaped as \\u00e9).
        accents = definition(node("a"), description="é" * (padding // 2))
        assert issues(accents, Limits(max_definition_bytes=2048)) == []

    def test_too_many_nodes_is_reported_with_the_other_problems(self) -> None:
        raw = definition(node("a"), node("b"), node("c", "nope"))
        assert codes(raw, Limits(max_nodes=2)) == {
            ("/nodes", "too_many_nodes"),
            ("/nodes/2/type", "unknown_type"),
        }
        assert issues(definition(node("a"), node("b")), Limits(max_nodes=2)) == []

    def test_nesting_deeper_than_the_limit_is_too_large(self) -> None:
        value: Any = 1
        for _ in range(70):
            value = [value]
        (issue,) = issues(definition(node("a", config={"value": value})))
        assert issue.code == "too_large"
        assert issue.path.startswith("/nodes/0/config/value/0/0")
        assert "64 levels" in issue.message

    def test_nesting_too_deep_for_the_json_encoder_is_too_large_not_a_crash(self) -> None:
        value: Any = 1
        for _ in range(5000):
            value = [value]
        assert codes(definition(node("a", config={"value": value}))) == {("", "too_large")}

    def test_nan_is_not_json(self) -> None:
        (issue,) = issues(definition(node("a", config={"value": float("nan")})))
        assert (issue.path, issue.code) == ("", "invalid")

    def test_defaults_and_bounds(self) -> None:
        assert Limits() == Limits(max_nodes=500, max_definition_bytes=262_144, max_depth=64)
        with pytest.raises(ValidationError):
            Limits(max_definition_bytes=10)
        with pytest.raises(ValidationError):
            Limits(max_nodes=0)


class TestShape:
    @pytest.mark.parametrize("raw", [[], "definition", None, 3])
    def test_not_an_object(self, raw: Any) -> None:
        assert codes(raw) == {("", "invalid")}

    def test_missing_name_and_empty_nodes(self) -> None:
        assert codes({"nodes": []}) == {("/name", "required"), ("/nodes", "invalid")}

    def test_unknown_fields_at_every_level(self) -> None:
        raw = definition(
            node("a", colour="red"),
            edges=[edge("a", "a2", label="x")],
            defaults={"retry": {"tries": 3}},
        )
        raw["nodes"].append(node("a2"))
        assert codes(raw) == {
            ("/nodes/0/colour", "unknown_field"),
            ("/edges/0/label", "unknown_field"),
            ("/defaults/retry/tries", "unknown_field"),
        }

    def test_bad_durations_everywhere(self) -> None:
        raw = definition(
            node("a", timeout="1 week", total_timeout="5x"),
            timeout="1y",
            defaults={
                "timeout": "fast",
                "retry": {"initial_interval": "-1s", "max_interval": "2m"},
            },
        )
        assert codes(raw) == {
            ("/timeout", "bad_duration"),
            ("/defaults/timeout", "bad_duration"),
            ("/defaults/retry/initial_interval", "bad_duration"),
            ("/nodes/0/timeout", "bad_duration"),
            ("/nodes/0/total_timeout", "bad_duration"),
        }

    @pytest.mark.parametrize("node_id", ["Upper", "1abc", "with-dash", "", "a" * 64])
    def test_invalid_node_ids(self, node_id: str) -> None:
        assert codes(definition(node(node_id))) == {("/nodes/0/id", "invalid")}

    def test_a_node_with_a_bad_field_still_exists_for_edges_and_references(self) -> None:
        raw = definition(
            node("a", timeout="never"),
            node("b", config={"value": "{{ nodes.a.output }}"}),
            node("c", join="some"),
            edges=[edge("a", "b"), edge("c", "b")],
        )
        assert codes(raw) == {("/nodes/0/timeout", "bad_duration"), ("/nodes/2/join", "invalid")}

    def test_a_node_with_a_bad_field_still_has_its_other_problems_reported(self) -> None:
        raw = definition(node("a", "nope", timeout="never", when="nodes.zz.output"))
        assert codes(raw) == {
            ("/nodes/0/timeout", "bad_duration"),
            ("/nodes/0/type", "unknown_type"),
            ("/nodes/0/when", "unknown_reference"),
        }

    def test_edge_shape(self) -> None:
        raw = definition(node("a"), node("b"), edges=[{"to": "b"}, edge("a", "b", on="maybe"), "x"])
        assert codes(raw) == {
            ("/edges/0/from", "required"),
            ("/edges/1/on", "invalid"),
            ("/edges/2", "invalid"),
        }


class TestNodesAndEdges:
    def test_unknown_type_lists_the_known_ones(self) -> None:
        issue = only(definition(node("a", "smtp")))
        assert (issue.path, issue.code) == ("/nodes/0/type", "unknown_type")
        assert "'smtp'" in issue.message
        assert "http" in issue.message

    def test_aliases_are_known_types(self) -> None:
        raw = definition(node("a", "echo", config={"message": "hi"}), node("b", "set"))
        assert issues(raw) == []

    def test_duplicate_id_points_at_the_repeat_and_names_the_first(self) -> None:
        found = issues(definition(node("a"), node("b"), node("a"), node("a")))
        assert [(i.path, i.code) for i in found] == [
            ("/nodes/2/id", "duplicate_id"),
            ("/nodes/3/id", "duplicate_id"),
        ]
        assert "/nodes/0" in found[0].message

    def test_edges_to_and_from_missing_nodes(self) -> None:
        raw = definition(node("a"), edges=[edge("a", "b"), edge("c", "a")])
        found = issues(raw)
        assert {(i.path, i.code) for i in found} == {
            ("/edges/0/to", "unknown_node"),
            ("/edges/1/from", "unknown_node"),
        }
        assert any("'b'" in i.message for i in found)

    def test_a_cycle_points_at_the_edge_that_closes_it_and_lists_its_nodes(self) -> None:
        raw = definition(
            node("start"),
            node("x"),
            node("y"),
            node("z"),
            edges=[edge("start", "x"), edge("x", "y"), edge("y", "z"), edge("z", "x")],
        )
        issue = only(raw)
        assert (issue.path, issue.code) == ("/edges/3", "cycle")
        assert "x -> y -> z -> x" in issue.message

    def test_a_self_loop_is_a_cycle(self) -> None:
        issue = only(definition(node("a"), edges=[edge("a", "a")]))
        assert (issue.path, issue.code) == ("/edges/0", "cycle")
        assert "a -> a" in issue.message

    def test_each_separate_cycle_is_reported(self) -> None:
        raw = definition(
            node("a"),
            node("b"),
            node("c"),
            node("d"),
            edges=[edge("a", "b"), edge("b", "a"), edge("c", "d"), edge("d", "c")],
        )
        assert codes(raw) == {("/edges/1", "cycle"), ("/edges/3", "cycle")}

    def test_nodes_only_reachable_through_a_cycle_are_unreachable(self) -> None:
        raw = definition(
            node("root"),
            node("a"),
            node("b"),
            node("after"),
            edges=[edge("a", "b"), edge("b", "a"), edge("b", "after")],
        )
        found = issues(raw)
        assert {(i.path, i.code) for i in found} == {
            ("/edges/1", "cycle"),
            ("/nodes/3", "unreachable"),
        }
        assert "'after'" in next(i.message for i in found if i.code == "unreachable")


class TestExpressions:
    def test_bad_bare_expression_has_line_and_column(self) -> None:
        issue = only(definition(node("a", when="input.x >")))
        assert (issue.path, issue.code) == ("/nodes/0/when", "bad_expression")
        assert "(line 1, column 10)" in issue.message

    def test_a_bad_hole_is_located_from_the_start_of_its_string(self) -> None:
        issue = only(definition(node("a", config={"value": "total: {{ input.x + }}"})))
        assert (issue.path, issue.code) == ("/nodes/0/config/value", "bad_expression")
        assert "(line 1, column 20)" in issue.message

    def test_a_bad_hole_on_a_later_line_counts_lines_of_the_string(self) -> None:
        issue = only(definition(node("a", config={"value": "first\n  {{ input.x +\n }}"})))
        assert "(line 2, column 15)" in issue.message

    def test_an_unclosed_hole_is_a_bad_expression_with_its_position(self) -> None:
        issue = only(definition(node("a", config={"value": {"k": ["ok", "x {{ input.x"]}})))
        assert (issue.path, issue.code) == ("/nodes/0/config/value/k/1", "bad_expression")
        assert "(line 1, column 3)" in issue.message

    def test_template_paths_escape_keys(self) -> None:
        issue = only(definition(node("a", config={"value": {"a/b~c": "{{ nope }}"}})))
        assert issue.path == "/nodes/0/config/value/a~1b~0c"

    def test_unknown_root_name(self) -> None:
        issue = only(definition(node("a", when="inputs.x == 1")))
        assert (issue.path, issue.code) == ("/nodes/0/when", "unknown_name")
        assert "'inputs'" in issue.message
        assert "input, nodes, run" in issue.message

    def test_builtin_type_names_are_not_unknown(self) -> None:
        raw = definition(node("a", when="type(input.x) == int && optional.of(1).hasValue()"))
        assert issues(raw) == []

    def test_macro_variables_are_not_unknown_names(self) -> None:
        raw = definition(node("a", when="input.xs.all(x, x > 0) && input.ys.map(y, y).size() > 0"))
        assert issues(raw) == []

    def test_unknown_function_is_named_with_the_nearest(self) -> None:
        issue = only(definition(node("a", when="sizee(input.xs) > 0")))
        assert (issue.path, issue.code) == ("/nodes/0/when", "unknown_function")
        assert "sizee()" in issue.message
        assert "did you mean size()?" in issue.message

    def test_extension_functions_are_refused_with_what_there_is(self) -> None:
        raw = definition(node("a", config={"value": "{{ input.name.upperAscii() }}"}))
        issue = only(raw)
        assert (issue.path, issue.code) == ("/nodes/0/config/value", "unknown_function")
        assert "upperAscii()" in issue.message
        assert "startsWith" in issue.message
        assert "script node" in issue.message

    def test_every_standard_function_is_known(self) -> None:
        when = (
            "size(input.s) > 0 && input.s.contains('a') && input.s.startsWith('a')"
            " && input.s.endsWith('a') && input.s.matches('a+') && int('1') == 1"
            " && uint(1) == 1u && double(1) == 1.0 && string(1) == '1' && size(bytes('a')) == 1"
            " && timestamp('2020-01-01T00:00:00Z').getFullYear() == 2020"
            " && duration('1s') > duration('0s') && type(1) == int && dyn(1) == 1"
            " && optional.none().orValue(1) == 1 && input.xs.exists_one(x, x == 1)"
        )
        assert issues(definition(node("a", when=when))) == []

    def test_reading_a_field_called_nodes_is_not_a_node_reference(self) -> None:
        assert issues(definition(node("a", when="input.nodes.ghost == 1"))) == []

    def test_names_inside_strings_are_text(self) -> None:
        raw = definition(node("a", config={"value": "{{ 'nodes.ghost and secrets.x' }}"}))
        assert issues(raw) == []


class TestNamePlacement:
    def test_result_only_in_the_nodes_own_output_mapping(self) -> None:
        raw = definition(
            node("a", output="{{ result.body }}"),
            node("b", config={"value": "{{ result }}"}),
            node("c", when="result.ok"),
            output="{{ result }}",
        )
        found = issues(raw)
        assert {(i.path, i.code) for i in found} == {
            ("/nodes/1/config/value", "misplaced_name"),
            ("/nodes/2/when", "misplaced_name"),
            ("/output", "misplaced_name"),
        }
        assert all("output' mapping" in i.message for i in found)

    def test_secrets_only_in_http_and_webhook_configs(self) -> None:
        raw = definition(
            http("a", headers={"Authorization": "Bearer {{ secrets.token }}"}),
            node("b", config={"value": "{{ secrets.token }}"}),
            node("c", when="secrets.flag"),
            {**http("d"), "output": "{{ secrets.token }}"},
            node(
                "e", "webhook", config={"url": "https://h.example.com", "secret": "{{ secrets.k }}"}
            ),
            node("f", "log", config={"message": "token {{ secrets.token }}"}),
            node("g", "validate", config={"data": "{{ secrets.token }}", "schema": {}}),
            output="{{ secrets.token }}",
        )
        found = issues(raw)
        assert {(issue.path, issue.code) for issue in found} == {
            ("/nodes/1/config/value", "misplaced_name"),
            ("/nodes/2/when", "misplaced_name"),
            ("/nodes/3/output", "misplaced_name"),
            ("/nodes/5/config/message", "misplaced_name"),
            ("/nodes/6/config/data", "misplaced_name"),
            ("/output", "misplaced_name"),
        }
        log_issue = next(i for i in found if i.path == "/nodes/5/config/message")
        assert "only inside the config of an http or webhook node" in log_issue.message

    def test_a_hole_reading_secrets_reads_nothing_else(self) -> None:
        raw = definition(
            http(
                "a",
                headers={
                    "X": "{{ secrets.prefix + input.id }}",
                    "Y": "{{ secrets.a }}-{{ input.id }}",
                },
            )
        )
        issue = only(raw)
        assert (issue.path, issue.code) == ("/nodes/0/config/headers/X", "misplaced_name")
        assert "nothing else" in issue.message

    def test_data_only_in_validate_rules(self) -> None:
        raw = definition(
            node(
                "v",
                "validate",
                config={
                    "data": "{{ input }}",
                    "rules": [{"expr": "data.amount > 0", "message": "amount {{ input.amount }}"}],
                },
            ),
            node("c", "condition", config={"expr": "data.x"}),
            node(
                "d",
                "validate",
                config={"data": "{{ data }}", "rules": [{"expr": "true", "message": "m"}]},
            ),
        )
        found = issues(raw)
        assert {(i.path, i.code) for i in found} == {
            ("/nodes/1/config/expr", "misplaced_name"),
            ("/nodes/2/config/data", "misplaced_name"),
        }
        assert all("validate node's rules" in i.message for i in found)

    def test_item_and_index_only_inside_for_each(self) -> None:
        raw = definition(node("a", config={"value": "{{ item.id }}"}), node("b", when="index > 0"))
        found = issues(raw)
        assert {(i.path, i.code) for i in found} == {
            ("/nodes/0/config/value", "misplaced_name"),
            ("/nodes/1/when", "misplaced_name"),
        }
        assert all("for_each" in i.message for i in found)


class TestReferences:
    def test_unknown_reference_names_the_missing_id(self) -> None:
        issue = only(definition(node("a", config={"value": "{{ nodes['ghost'].output }}"})))
        assert (issue.path, issue.code) == ("/nodes/0/config/value", "unknown_reference")
        assert "'ghost'" in issue.message

    def test_a_node_may_read_only_its_ancestors(self) -> None:
        raw = definition(
            node("a"),
            node("b", config={"value": "{{ nodes.a.output }}"}),
            node("c", config={"value": "{{ nodes.a.output }} {{ nodes.b.output }}"}),
            node("sibling", when="nodes.b.status == 'succeeded'", output="{{ nodes.c.output }}"),
            node("self", config={"value": "{{ nodes.self.output }}"}),
            edges=[edge("a", "b"), edge("b", "c"), edge("a", "sibling"), edge("a", "self")],
        )
        found = issues(raw)
        assert {(i.path, i.code) for i in found} == {
            ("/nodes/3/when", "not_upstream"),
            ("/nodes/3/output", "not_upstream"),
            ("/nodes/4/config/value", "not_upstream"),
        }
        assert "nodes.b" in found[0].message

    def test_an_edge_guard_sees_its_source_and_the_sources_ancestors(self) -> None:
        raw = definition(
            node("a"),
            node("b"),
            node("c"),
            node("other"),
            edges=[
                edge("a", "b"),
                edge("b", "c", when="nodes.b.output == 1 && nodes.a.status == 'succeeded'"),
                edge("a", "other", when="nodes.c.output == 1"),
            ],
        )
        assert codes(raw) == {("/edges/2/when", "not_upstream")}

    def test_the_run_output_may_read_any_node(self) -> None:
        raw = definition(
            node("a"), node("b"), output={"a": "{{ nodes.a.output }}", "b": "{{ nodes.b.output }}"}
        )
        assert issues(raw) == []

    def test_the_run_output_still_needs_existing_nodes(self) -> None:
        assert codes(definition(node("a"), output="{{ nodes.zz.output }}")) == {
            ("/output", "unknown_reference")
        }

    def test_dynamic_references_are_refused(self) -> None:
        raw = definition(
            node("a"),
            node("b", config={"value": "{{ nodes[input.which].output }}"}),
            node("c", when="size(nodes) > 0"),
            edges=[edge("a", "b"), edge("a", "c")],
        )
        found = issues(raw)
        assert {(i.path, i.code) for i in found} == {
            ("/nodes/1/config/value", "dynamic_reference"),
            ("/nodes/2/when", "dynamic_reference"),
        }
        assert "nodes.<id>" in found[0].message

    def test_references_are_still_checked_when_the_graph_has_a_cycle(self) -> None:
        raw = definition(
            node("a"),
            node("b"),
            node("c", config={"value": "{{ nodes.d.output }}"}),
            node("d"),
            edges=[edge("a", "b"), edge("b", "a"), edge("c", "d")],
        )
        assert codes(raw) == {("/edges/1", "cycle"), ("/nodes/2/config/value", "not_upstream")}

    def test_condition_and_switch_expressions_are_checked_in_place(self) -> None:
        raw = definition(
            node("a"),
            node(
                "cond",
                "condition",
                config={"all": ["nodes.a.output == 1", {"any": ["nodes.zz.output", "1 +"]}]},
            ),
            node(
                "sw",
                "switch",
                config={"cases": [{"when": "nodes.cond.output.result", "value": "{{ nope }}"}]},
            ),
            edges=[edge("a", "cond"), edge("a", "sw")],
        )
        assert codes(raw) == {
            ("/nodes/1/config/all/1/any/0", "unknown_reference"),
            ("/nodes/1/config/all/1/any/1", "bad_expression"),
            ("/nodes/2/config/cases/0/when", "not_upstream"),
            ("/nodes/2/config/cases/0/value", "unknown_name"),
        }


class TestConfigs:
    def test_config_models_are_applied_per_type(self) -> None:
        raw = definition(
            node("h", "http", config={"method": "FETCH"}),
            node("l", "log", config={"level": "loud"}),
            node("s", "switch", config={}),
            node("v", "validate", config={"data": 1}),
            node("t", config={"value": 1, "extra": 2}),
            node("w", "wait", config={}),
        )
        found = issues(raw)
        assert {(i.path, i.code) for i in found} == {
            ("/nodes/0/config/method", "invalid_config"),
            ("/nodes/0/config/url", "invalid_config"),
            ("/nodes/1/config/message", "invalid_config"),
            ("/nodes/1/config/level", "invalid_config"),
            ("/nodes/2/config/cases", "invalid_config"),
            ("/nodes/3/config", "invalid_config"),
            ("/nodes/4/config/extra", "invalid_config"),
            ("/nodes/5/config", "invalid_config"),
        }
        assert next(i for i in found if i.path == "/nodes/0/config/method").message.startswith(
            "http config: "
        )

    def test_templated_fields_are_exempt_from_type_checks(self) -> None:
        raw = definition(
            http(
                "a",
                method="{{ input.method }}",
                expect_status="{{ input.statuses }}",
                timeout="{{ input.timeout }}",
                max_response_bytes="{{ input.cap }}",
                query={"page": "{{ input.page }}"},
            ),
            node("w", "wait", config={"duration": "{{ input.wait }}"}),
        )
        assert issues(raw) == []

    def test_a_templated_field_does_not_hide_its_literal_siblings(self) -> None:
        raw = definition(
            http("a", auth={"type": "bearr", "token": "{{ secrets.token }}"}),
            http("b", headers={"Bad Name": "{{ secrets.token }}"}),
            http("c", url="https://x/{{ input.path }}", body={}, form={}),
        )
        assert codes(raw) == {
            ("/nodes/0/config/auth", "invalid_config"),
            ("/nodes/1/config/headers", "invalid_config"),
            ("/nodes/2/config", "invalid_config"),
        }

    def test_paths_point_into_the_document_not_at_union_members(self) -> None:
        raw = definition(
            http("a", query={"k": {"x": 1}}, auth={"type": "bearer"}, form={"f": [{"b": 1}]})
        )
        found = {i.path: i.message for i in issues(raw)}
        assert set(found) == {
            "/nodes/0/config/query/k",
            "/nodes/0/config/auth/token",
            "/nodes/0/config/form/f",
            "/nodes/0/config/form/f/0",
        }
        assert found["/nodes/0/config/query/k"] == (
            "http config: Input should be a valid string, a valid integer, a valid number, "
            "a valid boolean or a valid list"
        )
        assert found["/nodes/0/config/auth/token"] == "http config: Field required"

    def test_a_bad_duration_in_a_config_is_bad_duration(self) -> None:
        raw = definition(
            http("a", timeout="ages"), node("w", "wait", config={"duration": "3 weeks"})
        )
        assert codes(raw) == {
            ("/nodes/0/config/timeout", "bad_duration"),
            ("/nodes/1/config/duration", "bad_duration"),
        }

    def test_nested_condition_groups_are_checked(self) -> None:
        raw = definition(
            node(
                "c",
                "condition",
                config={
                    "all": [
                        "true",
                        7,
                        {"any": "true"},
                        {"all": ["true"], "any": ["true"]},
                        {"expr": 5},
                        {"nope": "true"},
                        {"any": [{"expr": "true"}, {"all": []}]},
                    ]
                },
            )
        )
        assert codes(raw) == {
            ("/nodes/0/config/all/1", "invalid_config"),
            ("/nodes/0/config/all/2/any", "invalid_config"),
            ("/nodes/0/config/all/3", "invalid_config"),
            ("/nodes/0/config/all/4/expr", "invalid_config"),
            ("/nodes/0/config/all/5", "invalid_config"),
        }

    def test_condition_needs_exactly_one_of_all_any_expr(self) -> None:
        raw = definition(node("c", "condition", config={"all": ["true"], "expr": "true"}))
        assert codes(raw) == {("/nodes/0/config", "invalid_config")}

    @pytest.mark.parametrize(
        ("until", "fragment"),
        [("2030-01-01T00:00:00", "time zone"), ("next tuesday", "RFC 3339")],
    )
    def test_wait_until_must_be_an_rfc3339_time_with_a_zone(
        self, until: str, fragment: str
    ) -> None:
        issue = only(definition(node("w", "wait", config={"until": until})))
        assert (issue.path, issue.code) == ("/nodes/0/config/until", "invalid_config")
        assert fragment in issue.message

    @pytest.mark.parametrize(
        "until", ["2030-01-01T00:00:00Z", "2030-01-01T09:00:00+02:00", "{{ input.at }}"]
    )
    def test_wait_until_accepts_zoned_times_and_templates(self, until: str) -> None:
        assert issues(definition(node("w", "wait", config={"until": until}))) == []

    def test_validate_schema_must_be_valid(self) -> None:
        raw = definition(
            node("v", "validate", config={"data": "{{ input }}", "schema": {"type": 5}})
        )
        assert codes(raw) == {("/nodes/0/config/schema", "invalid_config")}

    def test_configs_of_unknown_types_are_not_checked(self) -> None:
        raw = definition(
            node("x", "teleport", config={"items": "nodes.a.output", "anything": "{{ item }}"})
        )
        assert codes(raw) == {("/nodes/0/type", "unknown_type")}


class TestInputSchema:
    def test_a_valid_schema_passes(self) -> None:
        schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
        assert issues(definition(node("a"), input_schema=schema)) == []

    def test_an_invalid_schema_points_inside_it(self) -> None:
        schema = {"type": "object", "properties": {"a/b": {"type": "strang"}}}
        issue = only(definition(node("a"), input_schema=schema))
        assert (issue.path, issue.code) == ("/input_schema/properties/a~1b/type", "invalid_schema")
        assert "JSON Schema" in issue.message

    def test_a_non_object_schema_is_invalid(self) -> None:
        assert codes(definition(node("a"), input_schema=[1])) == {("/input_schema", "invalid")}


def loop(
    body: dict[str, Any], items: str = "input.items", *extra_nodes: dict[str, Any], **config: Any
) -> dict[str, Any]:
    """``before -> each(for_each body)``, plus ``extra_nodes`` (unconnected)."""
    return definition(
        node("before"),
        node("each", "for_each", config={"items": items, "body": body, **config}),
        *extra_nodes,
        edges=[edge("before", "each")],
    )


BODY = "/nodes/1/config/body"
needs_for_each = pytest.mark.skipif(
    kind_of("for_each") is None, reason="for_each is not a registered node type"
)


@needs_for_each
class TestForEachBodies:
    def test_a_body_sees_item_index_its_upstream_and_the_loops_ancestors(self) -> None:
        body = {
            "nodes": [
                node("calc", config={"value": "{{ item * 2 + index + nodes.before.output }}"}),
                node("label", when="index > 0", config={"value": "#{{ nodes.calc.output }}"}),
            ],
            "edges": [edge("calc", "label", when="nodes.calc.output > item")],
            "output": {"v": "{{ nodes.label.output }}", "i": "{{ index }}"},
        }
        assert issues(loop(body)) == []

    def test_item_and_index_stay_inside_the_body(self) -> None:
        raw = loop({"nodes": [node("x")]}, "input.items + [item]")
        raw["nodes"].append(node("after", config={"value": "{{ index }}"}))
        raw["edges"].append(edge("each", "after"))
        assert codes(raw) == {
            ("/nodes/1/config/items", "misplaced_name"),
            ("/nodes/2/config/value", "misplaced_name"),
        }

    def test_body_reads_follow_the_body_graph_and_the_loops_ancestors(self) -> None:
        body = {
            "nodes": [
                node("first", config={"value": "{{ nodes.second.output }}"}),
                node("second", config={"value": "{{ nodes.each.output }}"}),
                node("third", config={"value": "{{ nodes.elsewhere.output }}"}),
                node("fourth", config={"value": "{{ nodes.ghost.output }}"}),
            ],
            "edges": [edge("first", "second")],
            "output": "{{ nodes.first.output + nodes.before.output + nodes.elsewhere.output }}",
        }
        assert codes(loop(body, "input.items", node("elsewhere"))) == {
            (f"{BODY}/nodes/0/config/value", "not_upstream"),
            (f"{BODY}/nodes/1/config/value", "not_upstream"),
            (f"{BODY}/nodes/2/config/value", "not_upstream"),
            (f"{BODY}/nodes/3/config/value", "unknown_reference"),
            (f"{BODY}/output", "not_upstream"),
        }

    def test_nodes_outside_cannot_read_body_nodes(self) -> None:
        raw = loop({"nodes": [node("inner")]})
        raw["nodes"].append(node("after", config={"value": "{{ nodes.inner.output }}"}))
        raw["edges"].append(edge("each", "after"))
        assert codes(raw) == {("/nodes/2/config/value", "unknown_reference")}

    def test_a_body_is_checked_like_a_definition(self) -> None:
        body = {
            "nodes": [
                node("a"),
                node("a"),
                node("b", "teleport"),
                node("c", timeout="later"),
                node("d", colour="red"),
                node("e", config={"value": "{{ 1 + }}"}),
                node("f"),
                node("g"),
            ],
            "edges": [edge("a", "zz"), edge("f", "g"), edge("g", "f")],
        }
        assert codes(loop(body)) == {
            (f"{BODY}/nodes/1/id", "duplicate_id"),
            (f"{BODY}/nodes/2/type", "unknown_type"),
            (f"{BODY}/nodes/3/timeout", "bad_duration"),
            (f"{BODY}/nodes/4/colour", "unknown_field"),
            (f"{BODY}/nodes/5/config/value", "bad_expression"),
            (f"{BODY}/edges/0/to", "unknown_node"),
            (f"{BODY}/edges/2", "cycle"),
        }

    def test_body_ids_must_not_hide_outer_ids_but_sibling_bodies_may_share(self) -> None:
        raw = loop({"nodes": [node("before"), node("each")]})
        found = issues(raw)
        assert {(i.path, i.code) for i in found} == {
            (f"{BODY}/nodes/0/id", "duplicate_id"),
            (f"{BODY}/nodes/1/id", "duplicate_id"),
        }
        assert "/nodes/0 outside this for_each body" in found[0].message
        twin = node("twin", "for_each", config={"items": "[1]", "body": {"nodes": [node("x")]}})
        assert issues(loop({"nodes": [node("x")]}, "input.items", twin)) == []

    def test_a_missing_or_malformed_body(self) -> None:
        raw = definition(
            node("a", "for_each", config={"items": "[1]"}),
            node("b", "for_each", config={"items": "[1]", "body": {"nodes": []}}),
            node("c", "for_each", config={"items": "[1]", "body": {"nodes": [node("x")], "x": 1}}),
        )
        assert codes(raw) == {
            ("/nodes/0/config/body", "invalid_config"),
            ("/nodes/1/config/body/nodes", "invalid"),
            ("/nodes/2/config/body/x", "unknown_field"),
        }

    def test_for_each_bodies_nest(self) -> None:
        inner: dict[str, Any] = {
            "nodes": [node("leaf", config={"value": "{{ item + nodes.mid.output }}"})],
            "output": "{{ nodes.leaf.output + nodes.before.output }}",
        }
        outer = {
            "nodes": [
                node("mid", config={"value": "{{ item }}"}),
                node("nested", "for_each", config={"items": "item.children", "body": inner}),
            ],
            "edges": [edge("mid", "nested")],
        }
        assert issues(loop(outer)) == []
        inner["nodes"].append(node("mid"))
        assert codes(loop(outer)) == {(f"{BODY}/nodes/1/config/body/nodes/1/id", "duplicate_id")}

    def test_secrets_in_body_activity_configs(self) -> None:
        body = {
            "nodes": [
                http("get", headers={"Authorization": "Bearer {{ secrets.token }}"}),
                node("t", config={"value": "{{ secrets.token }}"}),
            ]
        }
        assert codes(loop(body)) == {(f"{BODY}/nodes/1/config/value", "misplaced_name")}


@pytest.mark.skipif(kind_of("wait_for_signal") is None, reason="wait_for_signal not registered")
def test_a_signal_schema_must_be_a_valid_json_schema() -> None:
    raw = definition(
        node("ask", "wait_for_signal", config={"signal": "go", "schema": {"type": "objekt"}})
    )
    assert codes(raw) == {("/nodes/0/config/schema/type", "invalid_schema")}


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("500ms", timedelta(milliseconds=500)),
            ("30s", timedelta(seconds=30)),
            ("5m", timedelta(minutes=5)),
            ("2h", timedelta(hours=2)),
            ("1d", timedelta(days=1)),
            ("1.5h", timedelta(minutes=90)),
            (" 10 s ", timedelta(seconds=10)),
            ("0s", timedelta(0)),
        ],
    )
    def test_valid(self, text: str, expected: timedelta) -> None:
        assert parse_duration(text) == expected

    @pytest.mark.parametrize(
        "text", ["30", "s", "", "1 week", "-1s", "1e3s", "1.s", "30S", "\u0663\u0660s", "1h30m"]
    )
    def test_invalid(self, text: str) -> None:
        with pytest.raises(ValueError, match="bad duration"):
            parse_duration(text)

    def test_too_long_for_a_timedelta_is_a_bad_duration_not_a_crash(self) -> None:
        with pytest.raises(ValueError, match="too long"):
            parse_duration("99999999999d")
        issue = only(definition(node("a"), timeout="99999999999d"))
        assert (issue.path, issue.code) == ("/timeout", "bad_duration")

    def test_a_long_bad_duration_is_shortened_in_the_message(self) -> None:
        issue = only(definition(node("a"), timeout="9" * 5000))
        assert issue.code == "bad_duration"
        assert len(issue.message) < 200


def test_http_url_must_be_a_string() -> None:
    definition, issues = validate_definition(
        {"name": "n", "nodes": [{"id": "a", "type": "http", "config": {"url": 5}}]}
    )
    assert definition is None
    assert [(i.path, i.code) for i in issues] == [("/nodes/0/config/url", "invalid_config")]


class TestSchemaReferences:
    REMOTE: ClassVar[list[tuple[dict[str, Any], str]]] = [
        ({"$ref": "https://schemas.example.com/lead.json"}, "/$ref"),
        ({"properties": {"x": {"$ref": "file:///etc/passwd"}}}, "/properties/x/$ref"),
        ({"$defs": {"a": {"$dynamicRef": "https://example.com/s#meta"}}}, "/$defs/a/$dynamicRef"),
        ({"allOf": [{"$recursiveRef": "other.json"}]}, "/allOf/0/$recursiveRef"),
        ({"$schema": "http://json-schema.org/draft-07/schema#"}, "/$schema"),
        ({"$id": "https://example.com/root.json", "items": {"$ref": "item.json"}}, "/items/$ref"),
        # A property named like a data keyword holds a schema all the same.
        ({"properties": {"const": {"$ref": "//evil.example/x"}}}, "/properties/const/$ref"),
    ]

    @pytest.mark.parametrize(("schema", "where"), REMOTE)
    def test_a_reference_that_leaves_the_document_is_refused_where_it_is(
        self, schema: dict[str, Any], where: str
    ) -> None:
        placed = [
            ("/input_schema", definition(node("a"), input_schema=schema)),
            (
                "/nodes/0/config/schema",
                definition(node("a", "wait_for_signal", config={"signal": "go", "schema": schema})),
            ),
            (
                "/nodes/0/config/schema",
                definition(node("a", "validate", config={"data": 1, "schema": schema})),
            ),
        ]
        for at, raw in placed:
            found = issues(raw)
            assert [(i.path, i.code) for i in found] == [(at + where, "invalid_schema")]
            assert "is refused; only" in found[0].message

    def test_local_references_the_built_in_meta_schemas_and_data_are_allowed(self) -> None:
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://example.com/lead.json",
            "$defs": {"tag": {"$anchor": "tag", "type": "string"}},
            "properties": {
                "a": {"$ref": "#/$defs/tag"},
                "b": {"$ref": "#tag"},
                "c": {"$ref": "https://json-schema.org/draft/2020-12/meta/core"},
                "d": {"const": {"$ref": "https://example.com/not-a-reference"}},
            },
            "default": {"$ref": "file:///data/too"},
            "examples": [{"$schema": "anything"}],
        }
        assert codes(definition(node("a"), input_schema=schema)) == set()

    def test_a_local_reference_is_applied_and_a_remote_one_is_refused_without_io(self) -> None:
        local = {"$defs": {"n": {"type": "integer"}}, "items": {"$ref": "#/$defs/n"}}
        assert [e.message for e in schema_errors(local, [1, "x"], formats=False)] == [
            "'x' is not of type 'integer'"
        ]
        # Port 9 (discard) on a reserved documentation address: a fetch would hang or fail.
        with pytest.raises(SchemaRefused) as info:
            schema_errors({"items": {"$ref": "http://192.0.2.1:9/s.json"}}, [1], formats=False)
        assert (info.value.keyword, info.value.path) == ("$ref", "/items/$ref")
        assert "only local references (#...) are allowed" in str(info.value)
        with pytest.raises(SchemaRefused) as missing:
            schema_errors({"$ref": "#/$defs/nowhere"}, 1, formats=False)
        assert "does not resolve within the schema" in str(missing.value)


SERVER = Limits(max_wait=timedelta(days=30), max_signal_timeout=timedelta(days=30))


class TestQuotaLimits:
    """Waits, signal timeouts and literal for_each lists within the server's limits."""

    def test_a_wait_of_99999999_days_is_refused_at_its_pointer(self) -> None:
        found = issues(definition(node("hold", "wait", config={"duration": "99999999d"})), SERVER)
        assert [(i.path, i.code) for i in found] == [("/nodes/0/config/duration", "over_limit")]
        assert "30d" in found[0].message
        assert "FLOWFORGE_QUOTA_MAX_WAIT" in found[0].message

    def test_a_wait_until_far_ahead_is_refused_a_near_one_taken(self) -> None:
        far = definition(node("hold", "wait", config={"until": "9999-01-01T00:00:00Z"}))
        assert codes(far, SERVER) == {("/nodes/0/config/until", "over_limit")}
        near = definition(node("hold", "wait", config={"until": "2000-01-01T00:00:00Z"}))
        assert codes(near, SERVER) == set()

    def test_the_limits_are_the_servers(self) -> None:
        wait = definition(node("hold", "wait", config={"duration": "2h"}))
        assert codes(wait, Limits(max_wait=timedelta(hours=1))) == {
            ("/nodes/0/config/duration", "over_limit")
        }
        assert codes(wait, Limits(max_wait=timedelta(hours=2))) == set()
        signal = definition(
            node("ask", "wait_for_signal", config={"signal": "go", "timeout": "31d"})
        )
        assert codes(signal, SERVER) == {("/nodes/0/config/timeout", "over_limit")}
        assert codes(signal, Limits(max_signal_timeout=timedelta(days=31))) == set()

    def test_a_templated_duration_is_left_for_the_run(self) -> None:
        wait = definition(node("hold", "wait", config={"duration": "{{ input.delay }}"}))
        assert not any(i.code == "over_limit" for i in issues(wait, SERVER))

    def test_without_limits_nothing_is_bounded(self) -> None:
        wait = definition(node("hold", "wait", config={"duration": "99999999d"}))
        assert codes(wait) == set()

    def test_a_literal_for_each_list_over_the_limit_is_refused(self) -> None:
        body = {"nodes": [node("inner", "wait", config={"duration": "40d"})]}
        each = definition(node("each", "for_each", config={"items": "[1, 2, 3, 4]", "body": body}))
        assert codes(each, Limits(max_for_each_items=3, max_wait=timedelta(days=30))) == {
            ("/nodes/0/config/items", "over_limit"),
            ("/nodes/0/config/body/nodes/0/config/duration", "over_limit"),
        }
        assert codes(each, Limits(max_for_each_items=4, max_wait=timedelta(days=40))) == set()
        computed = definition(
            node("each", "for_each", config={"items": "input.things", "body": body})
        )
        assert ("/nodes/0/config/items", "over_limit") not in codes(
            computed, Limits(max_for_each_items=1)
        )


class TestHints:
    """Unknown types and fields say what was probably meant."""

    @staticmethod
    def messages(raw: Any) -> dict[str, str]:
        return {issue.path: issue.message for issue in issues(raw)}

    @pytest.mark.parametrize(
        ("written", "meant"),
        [
            ("HTTP_REQUEST", "http"),
            ("httpRequest", "http"),
            ("DATA_TRANSFORM", "transform"),
            ("transfrom", "transform"),
            ("DELAY", "wait"),
            ("FOR-EACH", "for_each"),
            ("HUMAN_TASK", "wait_for_signal"),
            ("Webhok", "webhook"),
        ],
    )
    def test_another_tools_or_a_mistyped_type_gets_its_match(
        self, written: str, meant: str
    ) -> None:
        message = self.messages(definition(node("a", written)))["/nodes/0/type"]
        assert f"did you mean {meant!r}?" in message
        assert "known: condition" in message

    def test_a_type_like_nothing_gets_only_the_list(self) -> None:
        message = self.messages(definition(node("a", "zzqx")))["/nodes/0/type"]
        assert "did you mean" not in message

    def test_fields_from_other_vocabularies_name_ours_and_what_they_take(self) -> None:
        raw = definition(node("a", retries=3), node("b", retryConfig={"maxAttempts": 2}))
        raw["edges"] = [edge("a", "b", condition={"type": "ALWAYS"})]
        raw["steps"] = []
        found = self.messages(raw)
        assert "unknown field 'retries'; did you mean 'retry'" in found["/nodes/0/retries"]
        assert "did you mean 'retry'" in found["/nodes/1/retryConfig"]
        assert "did you mean 'when' (a CEL expression" in found["/edges/0/condition"]
        assert "did you mean 'nodes'" in found["/steps"]

    def test_an_order_on_a_node_points_to_edges(self) -> None:
        found = self.messages(definition(node("a", order=1)))
        assert "use 'edges'" in found["/nodes/0/order"]

    def test_a_typo_in_a_config_or_retry_field_names_the_right_one(self) -> None:
        raw = definition(http("a", methd="GET"), node("b", retry={"max_attempt": 2}))
        found = self.messages(raw)
        assert found["/nodes/0/config/methd"] == (
            "http config: unknown field 'methd'; did you mean 'method'?"
        )
        assert "did you mean 'max_attempts'?" in found["/nodes/1/retry/max_attempt"]

    def test_a_field_near_nothing_lists_what_is_allowed(self) -> None:
        message = self.messages(definition(node("a", zzz=1)))["/nodes/0/zzz"]
        assert "allowed here: " in message
        assert "circuit_breaker" in message


def test_execution_is_local_or_activity_on_a_node_and_in_defaults() -> None:
    raw = definition(
        http("a", method="GET"),
        node("b", "log", config={"message": "m"}),
        defaults={"execution": "activity"},
    )
    raw["nodes"][0]["execution"] = "local"
    parsed, problems = validate_definition(raw)
    assert problems == []
    assert parsed is not None
    assert parsed.nodes[0].execution == "local"
    assert parsed.nodes[1].execution is None
    assert parsed.defaults.execution == "activity"
    assert Definition.model_validate(definition(node("a"))).defaults.execution == "local"
    raw["nodes"][1]["execution"] = "remote"
    assert only(raw).path == "/nodes/1/execution"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            {"type": "script", "config": {"language": "python", "code": "def main(i): return i"}},
            "a script node always runs as a regular activity",
        ),
        ({"type": "transform", "config": {"value": 1}}, "a transform node runs in the workflow"),
        (
            {"type": "http", "config": {"url": "https://x.test"}, "task_queue": "gpu"},
            "routed to task_queue 'gpu'",
        ),
    ],
)
def test_a_local_execution_a_node_could_never_have_is_refused(
    extra: dict[str, Any], words: str
) -> None:
    issue = only(definition({"id": "a", "execution": "local", **extra}))
    assert issue.path == "/nodes/0/execution"
    assert "node 'a'" in issue.message
    assert words in issue.message

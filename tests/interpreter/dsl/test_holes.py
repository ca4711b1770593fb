"""Holes (``{{ cel }}`` templates): parsing, walking JSON values, rendering, deferring secrets."""

from __future__ import annotations

from typing import Any

import pytest

from interpreter.dsl.holes import (
    Hole,
    as_text,
    has_holes,
    iter_holes,
    parse_template,
    render,
)
from interpreter.errors import EvaluationError, ExpressionSyntaxError

pytestmark = pytest.mark.fast

VARIABLES: dict[str, Any] = {
    "input": {
        "id": 42,
        "name": "Ada",
        "tags": ["a", "b"],
        "profile": {"z": 1, "a": "é"},
        "ok": True,
        "none": None,
        "ratio": 0.5,
    },
    "nodes": {"get": {"output": {"body": {"plan": "pro"}}, "status": "succeeded"}},
}


class TestParse:
    def test_plain_text_is_one_literal(self) -> None:
        assert parse_template("no holes here") == ("no holes here",)

    def test_a_single_hole_records_where_its_expression_starts(self) -> None:
        assert parse_template("{{ input.id }}") == (Hole("input.id", 3),)
        assert parse_template("{{input.id}}") == (Hole("input.id", 2),)

    def test_text_and_holes_alternate(self) -> None:
        assert parse_template("id={{ input.id }}, name={{input.name}}!") == (
            "id=",
            Hole("input.id", 6),
            ", name=",
            Hole("input.name", 26),
            "!",
        )

    def test_backslash_escapes_an_opening_pair(self) -> None:
        assert parse_template("\\{{ not a hole }} {{ input.id }}") == (
            "{{ not a hole }} ",
            Hole("input.id", 21),
        )

    def test_closing_pair_outside_a_hole_is_text(self) -> None:
        assert parse_template("a }} b") == ("a }} b",)

    @pytest.mark.parametrize(
        ("text", "source"),
        [
            ("{{ '}}' + input.name }}", "'}}' + input.name"),
            ('{{ "}}" }}', '"}}"'),
            ("{{ 'it\\'s }}' }}", "'it\\'s }}'"),
            ("{{ '''it's }}''' }}", "'''it's }}'''"),
            ("{{ r'\\' + '}}' }}", "r'\\' + '}}'"),
            ("{{ {'a': {'b': 1}} }}", "{'a': {'b': 1}}"),
            ("{{ {'a': 1}}}", "{'a': 1}"),
            ("{{ [{'k': '}}'}] }}", "[{'k': '}}'}]"),
        ],
    )
    def test_closing_pairs_inside_strings_and_map_literals_do_not_close(
        self, text: str, source: str
    ) -> None:
        (hole,) = parse_template(text)
        assert isinstance(hole, Hole)
        assert hole.source == source

    def test_a_stray_brace_does_not_swallow_the_closing_pair(self) -> None:
        assert parse_template("{{ a } }} tail") == (Hole("a }", 3), " tail")

    def test_an_unclosed_hole_is_a_syntax_error_with_its_position(self) -> None:
        with pytest.raises(ExpressionSyntaxError, match="unclosed") as caught:
            parse_template("line one\n  ok {{ input.id ")
        assert caught.value.position == (2, 6)

    def test_long_templates_parse_like_short_ones(self) -> None:
        text = "x" * 5000 + "{{ input.id }}"
        assert parse_template(text) == ("x" * 5000, Hole("input.id", 5003))

    def test_parsed_templates_are_cached(self) -> None:
        assert parse_template("{{ input.cache_probe }}") is parse_template(
            "{{ input.cache_probe }}"
        )


class TestWalk:
    def test_iter_holes_yields_json_pointers(self) -> None:
        value = {
            "url": "https://x/{{ input.id }}",
            "headers": {"a/b": "{{ input.name }}", "t~x": "plain"},
            "list": ["x", "{{ input.tags }} and {{ input.ok }}"],
            "n": 3,
        }
        assert [(path, hole.source) for path, hole in iter_holes(value, "/config")] == [
            ("/config/url", "input.id"),
            ("/config/headers/a~1b", "input.name"),
            ("/config/list/1", "input.tags"),
            ("/config/list/1", "input.ok"),
        ]

    def test_escaped_braces_are_not_holes(self) -> None:
        assert list(iter_holes({"a": "\\{{ x }}"})) == []
        assert not has_holes(["\\{{ x }}", 1, None])
        assert has_holes({"deep": [{"x": "{{ input }}"}]})

    def test_an_unclosed_hole_raises_while_walking(self) -> None:
        with pytest.raises(ExpressionSyntaxError):
            list(iter_holes({"a": "{{ oops"}))


class TestRender:
    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("{{ input.id }}", 42),
            ("{{input.profile}}", {"a": "é", "z": 1}),
            ("{{ input.tags }}", ["a", "b"]),
            ("{{ input.ok }}", True),
            ("{{ input.none }}", None),
            ("{{ input.ratio }}", 0.5),
            ("{{ nodes.get.output.body }}", {"plan": "pro"}),
        ],
    )
    def test_exactly_one_hole_keeps_the_native_type(self, template: str, expected: Any) -> None:
        result = render(template, VARIABLES, where="w")
        assert result == expected
        assert type(result) is type(expected)

    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("id {{ input.id }}", "id 42"),
            (" {{ input.id }}", " 42"),
            ("{{ input.name }}{{ input.id }}", "Ada42"),
            ("{{ input.name }}: {{ input.tags }}", 'Ada: ["a","b"]'),
            ("p={{ input.profile }}", 'p={"a":"é","z":1}'),
            ("{{ input.ok }}/{{ input.none }}/{{ input.ratio }}", "true/null/0.5"),
            ("literal \\{{ x }} and {{ input.name }}", "literal {{ x }} and Ada"),
            ("only \\{{ escaped }}", "only {{ escaped }}"),
        ],
    )
    def test_mixed_text_renders_every_hole_as_text(self, template: str, expected: str) -> None:
        assert render(template, VARIABLES, where="w") == expected

    def test_render_walks_json_and_leaves_keys_and_non_strings_alone(self) -> None:
        value = {
            "{{ input.name }}": "{{ input.name }}",
            "n": 1,
            "list": [True, None, "x{{ input.id }}", {"deep": "{{ input.tags }}"}],
        }
        assert render(value, VARIABLES, where="w") == {
            "{{ input.name }}": "Ada",
            "n": 1,
            "list": [True, None, "x42", {"deep": ["a", "b"]}],
        }

    def test_plain_strings_come_back_unchanged(self) -> None:
        assert render("}} {plain} }}", VARIABLES, where="w") == "}} {plain} }}"

    def test_an_evaluation_error_names_where_the_path_and_the_expression(self) -> None:
        value = {"headers": {"X/Id": "{{ input.nope }}"}, "list": ["ok", "a{{ 1 / 0 }}"]}
        with pytest.raises(EvaluationError) as caught:
            render(value, VARIABLES, where="node 'get' config")
        message = str(caught.value)
        assert message.startswith("node 'get' config/headers/X~1Id: ")
        assert "'input.nope'" in message
        assert "no such key: nope" in message
        with pytest.raises(EvaluationError) as caught:
            render({"list": ["ok", "a{{ 1 / 0 }}"]}, VARIABLES, where="cfg")
        assert str(caught.value).startswith("cfg/list/1: '1 / 0': ")

    def test_a_hole_that_does_not_compile_fails_as_an_evaluation_error(self) -> None:
        with pytest.raises(EvaluationError, match=r"^output: bad expression '1 \+'"):
            render("{{ 1 + }}", VARIABLES, where="output")

    def test_an_unclosed_hole_fails_as_an_evaluation_error(self) -> None:
        with pytest.raises(EvaluationError, match=r"^config/a: unclosed"):
            render({"a": "x {{ input.id"}, VARIABLES, where="config")


class TestDefer:
    SECRETS = {"secrets": {"token": "s3cr3t", "other": "leak"}}

    def _defer(self, value: Any, variables: dict[str, Any] | None = None) -> Any:
        return render(value, variables or VARIABLES, where="config", defer={"secrets"})

    def _finish(self, deferred: Any) -> Any:
        """What the activity does later: render the remaining secret holes."""
        return render(deferred, self.SECRETS, where="activity")

    def test_a_lone_secret_hole_is_left_as_template_text(self) -> None:
        assert self._defer("{{secrets.token}}") == "{{ secrets.token }}"

    def test_other_holes_in_the_same_string_are_rendered(self) -> None:
        assert self._defer("Bearer {{ secrets.token }} for {{ input.name }}") == (
            "Bearer {{ secrets.token }} for Ada"
        )

    def test_a_value_without_secret_holes_is_a_template_too(self) -> None:
        variables = {"input": {"id": 42, "tpl": "Hello {{name}}"}}
        value = {"id": "{{ input.id }}", "s": "x{{ input.id }}", "tpl": "{{ input.tpl }}"}
        deferred = self._defer(value, variables)
        assert deferred == {"id": 42, "s": "x42", "tpl": "Hello \\{{name}}"}
        assert self._finish(deferred) == {"id": 42, "s": "x42", "tpl": "Hello {{name}}"}

    def test_data_cannot_become_a_secret_hole_when_the_value_has_none(self) -> None:
        # The activity renders every config it gets: a hole carried in by data
        # (here the run input) must reach it escaped, or it would read a secret.
        variables = {"input": {"q": "{{ secrets.other }}", "obj": ["{{ secrets.other }}"]}}
        value = {"query": "{{ input.q }}", "text": "q={{ input.q }}", "body": "{{ input.obj }}"}
        finished = self._finish(self._defer(value, variables))
        assert finished == {
            "query": "{{ secrets.other }}",
            "text": "q={{ secrets.other }}",
            "body": ["{{ secrets.other }}"],
        }
        assert "leak" not in str(finished)

    def test_without_defer_rendering_gives_final_data(self) -> None:
        variables = {"input": {"tpl": "Hello {{name}}"}}
        assert render("{{ input.tpl }}", variables, where="w") == "Hello {{name}}"

    def test_data_beside_a_secret_hole_cannot_become_a_hole_anywhere_in_the_value(self) -> None:
        variables = {"input": {"q": "{{ secrets.other }}", "obj": {"k": ["{{ secrets.other }}"]}}}
        value = {
            "auth": "{{ secrets.token }}",
            "query": "{{ input.q }}",
            "text": "q={{ input.q }}",
            "body": "{{ input.obj }}",
            "literal": "\\{{ secrets.other }}",
        }
        deferred = self._defer(value, variables)
        assert deferred == {
            "auth": "{{ secrets.token }}",
            "query": "\\{{ secrets.other }}",
            "text": "q=\\{{ secrets.other }}",
            "body": {"k": ["\\{{ secrets.other }}"]},
            "literal": "\\{{ secrets.other }}",
        }
        assert self._finish(deferred) == {
            "auth": "s3cr3t",
            "query": "{{ secrets.other }}",
            "text": "q={{ secrets.other }}",
            "body": {"k": ["{{ secrets.other }}"]},
            "literal": "{{ secrets.other }}",
        }

    def test_literal_braces_in_a_deferred_string_are_escaped_again(self) -> None:
        deferred = self._defer("\\{{ raw }} {{ secrets.token }}")
        assert deferred == "\\{{ raw }} {{ secrets.token }}"
        assert self._finish(deferred) == "{{ raw }} s3cr3t"

    def test_rendered_data_cannot_inject_a_hole_into_a_deferred_string(self) -> None:
        variables = {"input": {"name": "{{ secrets.other }}"}}
        deferred = self._defer("{{ input.name }}:{{ secrets.token }}", variables)
        assert self._finish(deferred) == "{{ secrets.other }}:s3cr3t"

    def test_a_rendered_backslash_does_not_escape_the_secret_hole(self) -> None:
        variables = {"input": {"dir": "C:\\"}}
        deferred = self._defer("{{ input.dir }}{{ secrets.token }}", variables)
        assert self._finish(deferred) == "C:\\s3cr3t"

    @pytest.mark.parametrize(
        "template",
        [
            "{{ secrets.token }}",
            "Bearer {{ secrets.token }}",
            "{{ input.name }} \\{{ lit }} {{ secrets.token }} {{ input.tags }}",
            {"h": ["{{ input.id }}", "k={{ secrets.token }}&n={{ input.name }}"]},
            {"a": "{{ secrets.token }}", "b": "{{ input.profile }}", "c": "\\{{ x }}"},
            {"a": "{{ input.name }}", "b": ["\\{{ x }}", "C:\\"], "n": 1},
            "plain text",
        ],
    )
    def test_deferring_then_finishing_equals_rendering_at_once(self, template: Any) -> None:
        at_once = render(template, {**VARIABLES, **self.SECRETS}, where="config")
        assert self._finish(self._defer(template)) == at_once

    def test_deferred_holes_are_not_evaluated(self) -> None:
        # No `secrets` variable at all: evaluating the hole would fail.
        assert self._defer({"auth": "{{ secrets.missing.deep }}"}) == {
            "auth": "{{ secrets.missing.deep }}"
        }


def test_as_text_renders_strings_raw_and_everything_else_as_compact_json() -> None:
    assert as_text("x") == "x"
    assert as_text({"a": [1, None, True]}) == '{"a":[1,null,true]}'
    assert as_text("é") == "é"
    assert as_text(["é"]) == '["é"]'
    assert as_text(None) == "null"

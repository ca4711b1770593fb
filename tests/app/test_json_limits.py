"""The raw-body scan: depth counted outside strings, the place named by a JSON pointer."""

from __future__ import annotations

import time

import pytest

from app.api.json_limits import printable, too_deep, unstorable_values

pytestmark = pytest.mark.fast


def test_depth_at_the_limit_passes_and_one_more_is_named() -> None:
    assert too_deep(b"[[[1]]]", 3) is None
    problem = too_deep(b'{"a": [1, {"b\\"c": [[2]]}]}', 3)
    assert problem is not None
    assert problem.path == '/body/a/1/b"c'


def test_brackets_in_strings_and_escaped_quotes_do_not_count() -> None:
    assert too_deep(b'["[[[[", "\\"[[[[", {"k[[[": "]]]]"}]', 2) is None


def test_a_huge_nesting_is_refused_without_recursion_and_quickly() -> None:
    began = time.perf_counter()
    assert too_deep(b"[" * 5_000_000, 64) is not None
    wide = b"[" + b"[]," * 300_000 + b"[]]"
    assert too_deep(wide, 2) is None
    assert time.perf_counter() - began < 2.0


def test_values_are_checked_only_when_the_body_may_hold_a_problem() -> None:
    assert unstorable_values(b'{"a": "plain", "b": 1.5}') == []
    assert unstorable_values(b'{"a": "\\u0000') == []  # not JSON: the route says so
    pair = unstorable_values(b'{"ok": "\\ud83d\\ude00", "lone": "\\udc00"}')
    assert [(p.path, p.code) for p in pair] == [("/body/lone", "lone_surrogate")]


def test_a_bad_character_in_a_path_is_spelled_out() -> None:
    assert printable("a\x00b\ud800") == "a\\u0000b\\ud800"

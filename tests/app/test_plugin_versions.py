"""Plugin version ranges: which published version a script node's reference runs."""

from __future__ import annotations

import pytest

from app.plugins.versions import BadRange, parse_range, split_reference

pytestmark = pytest.mark.fast

PUBLISHED = ["0.1.0", "0.1.4", "0.2.0", "1.0.0", "1.2.0", "1.2.7", "1.9.0", "2.0.0-rc.1", "2.0.0"]


@pytest.mark.parametrize(
    ("wanted", "runs"),
    [
        ("1.2.0", "1.2.0"),
        ("^1.2.0", "1.9.0"),
        ("^1.2", "1.9.0"),
        ("~1.2.0", "1.2.7"),
        ("^0.1.0", "0.1.4"),
        ("1", "1.9.0"),
        ("1.2", "1.2.7"),
        ("*", "2.0.0"),
        ("", "2.0.0"),
        (">=1.0.0 <1.5.0", "1.2.7"),
        ("2.0.0-rc.1", "2.0.0-rc.1"),
        ("^3", None),
    ],
)
def test_the_newest_version_in_range_runs(wanted: str, runs: str | None) -> None:
    assert parse_range(wanted).newest(PUBLISHED) == runs


def test_pre_releases_run_only_when_named() -> None:
    assert parse_range("^2.0.0-rc.0").newest(["2.0.0-rc.1"]) is None


@pytest.mark.parametrize("wanted", ["1.2.x", ">=1.0.0 banana", "v1"])
def test_bad_ranges_say_what_a_range_looks_like(wanted: str) -> None:
    with pytest.raises(BadRange):
        parse_range(wanted)


def test_a_reference_is_a_name_and_a_range() -> None:
    assert split_reference("Shout@^1.2") == ("shout", "^1.2")
    assert split_reference("shout") == ("shout", "")
    with pytest.raises(BadRange, match="name the plugin"):
        split_reference("@1.0.0")

"""How often a cron expression or an interval fires, against the shortest allowed interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.triggers.schedule_spec import shortest_cron_gap, too_frequent

pytestmark = pytest.mark.fast

NOON = datetime(2026, 1, 1, 12, 0, 0)


@pytest.mark.parametrize(
    ("cron", "gap"),
    [
        ("* * * * *", timedelta(minutes=1)),
        ("*/5 * * * *", timedelta(minutes=5)),
        ("5/15 * * * *", timedelta(minutes=15)),
        ("0 9 * * MON-FRI", timedelta(days=1)),
        ("*/10 * * * * *", timedelta(seconds=10)),
        ("0,1 0 * * *", timedelta(minutes=1)),
        # Every minute, but only on the 1st: the burst is found weeks ahead.
        ("* * 1 * *", timedelta(minutes=1)),
        ("0 0 1 * *", timedelta(days=28)),
    ],
)
def test_the_shortest_gap_of_a_cron_expression(cron: str, gap: timedelta) -> None:
    assert shortest_cron_gap(cron, NOON) == gap


def test_a_cron_firing_once_in_the_time_searched_has_no_gap() -> None:
    assert shortest_cron_gap("0 0 29 2 *", datetime(2027, 3, 1)) is None


def test_too_frequent_names_the_field() -> None:
    now = datetime.now(UTC)
    minute = timedelta(minutes=1)
    assert too_frequent(cron=None, interval="30s", shortest=minute, now=now) is not None
    assert too_frequent(cron=None, interval="1m", shortest=minute, now=now) is None
    found = too_frequent(cron="0,30 * * * * *", interval=None, shortest=minute, now=now)
    assert found is not None
    assert found[0] == "cron"
    assert "30s apart" in found[1]
    assert too_frequent(cron="* * * * *", interval=None, shortest=minute, now=now) is None

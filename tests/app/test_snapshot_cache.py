"""The cache of ended runs' status: within its byte budget, least recently read dropped first."""

from __future__ import annotations

import pytest

from app.core.snapshots import ClosedSnapshots
from interpreter.contract.run import RunSnapshot, RunStatus

pytestmark = pytest.mark.fast


def snap(output: str) -> RunSnapshot:
    return RunSnapshot(status=RunStatus.SUCCEEDED, workflow_id="w", version=1, output=output)


def test_the_least_recently_read_goes_first_once_over_the_budget() -> None:
    one = len(snap("a" * 100).model_dump_json())
    cache = ClosedSnapshots(budget_bytes=2 * one)
    cache.put(("run-a", "1"), snap("a" * 100))
    cache.put(("run-b", "1"), snap("b" * 100))
    assert cache.get(("run-a", "1")) is not None  # run-a is now the most recently read
    cache.put(("run-c", "1"), snap("c" * 100))
    assert cache.get(("run-b", "1")) is None
    assert cache.get(("run-a", "1")) == snap("a" * 100)
    assert cache.get(("run-c", "1")) is not None
    assert cache.used <= cache.budget


def test_a_snapshot_over_the_whole_budget_or_a_zero_budget_keeps_nothing() -> None:
    assert ClosedSnapshots(budget_bytes=0).get(("run-a", "1")) is None
    cache = ClosedSnapshots(budget_bytes=50)
    cache.put(("run-a", "1"), snap("a" * 100))
    assert cache.get(("run-a", "1")) is None
    assert cache.used == 0

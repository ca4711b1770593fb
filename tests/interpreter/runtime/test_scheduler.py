"""The scheduling rules on their own: roots, edge outcomes, joins, failure handling."""

from __future__ import annotations

import pytest

from interpreter.contract.run import NodeStatus
from interpreter.dsl.definition import Edge
from interpreter.runtime.scheduler import Scheduler
from tests.support.dag import edge, node

pytestmark = pytest.mark.fast

SUCCEEDED, FAILED, SKIPPED = NodeStatus.SUCCEEDED, NodeStatus.FAILED, NodeStatus.SKIPPED


def never(_edge: Edge) -> bool:
    raise AssertionError("no edge here has a when")


def test_roots_are_the_nodes_without_incoming_edges_in_definition_order() -> None:
    scheduler = Scheduler(
        [node("c"), node("a"), node("b"), node("d")], [edge("a", "b"), edge("c", "d")]
    )
    assert scheduler.roots() == ["c", "a"]


def test_a_target_is_ready_once_every_incoming_edge_is_settled() -> None:
    scheduler = Scheduler([node("a"), node("b"), node("c")], [edge("a", "c"), edge("b", "c")])
    assert scheduler.settle("a", SUCCEEDED, never) == []
    assert scheduler.settle("b", SUCCEEDED, never) == ["c"]
    assert scheduler.taken == [True, True]


def test_a_target_reached_twice_from_one_source_is_ready_once() -> None:
    scheduler = Scheduler([node("a"), node("b")], [edge("a", "b"), edge("a", "b", on="failure")])
    assert scheduler.settle("a", SUCCEEDED, never) == ["b"]
    assert scheduler.taken == [True, False]


@pytest.mark.parametrize(
    ("on", "status", "taken"),
    [
        ("success", SUCCEEDED, True),
        ("success", FAILED, False),
        ("failure", SUCCEEDED, False),
        ("failure", FAILED, True),
        ("always", SUCCEEDED, True),
        ("always", FAILED, True),
        ("always", SKIPPED, False),
        ("success", NodeStatus.CANCELLED, False),
    ],
)
def test_edge_on_matches_the_source_outcome(on: str, status: NodeStatus, taken: bool) -> None:
    scheduler = Scheduler([node("a"), node("b")], [edge("a", "b", on=on)])
    assert scheduler.settle("a", status, never) == ["b"]
    assert scheduler.taken == [taken]


def test_edge_when_is_asked_only_when_on_matches() -> None:
    asked: list[str | None] = []

    def guard(e: Edge) -> bool:
        asked.append(e.when)
        return e.when == "yes"

    scheduler = Scheduler(
        [node("a"), node("b"), node("c"), node("d")],
        [
            edge("a", "b", when="yes"),
            edge("a", "c", when="no"),
            edge("a", "d", on="failure", when="yes"),
        ],
    )
    assert scheduler.settle("a", SUCCEEDED, guard) == ["b", "c", "d"]
    assert scheduler.taken == [True, False, False]
    assert asked == ["yes", "no"]


@pytest.mark.parametrize(
    ("join", "taken", "holds"),
    [
        ("all_success", [True, True], True),
        ("all_success", [True, False], False),
        ("any_success", [False, True], True),
        ("any_success", [False, False], False),
        ("all_done", [False, False], True),
    ],
)
def test_joins(join: str, taken: list[bool], holds: bool) -> None:
    scheduler = Scheduler(
        [node("a"), node("b"), node("c", join=join)], [edge("a", "c"), edge("b", "c")]
    )
    for source, was_taken in zip(("a", "b"), taken, strict=True):
        scheduler.settle(source, SUCCEEDED if was_taken else SKIPPED, never)
    assert scheduler.join_holds("c") is holds


def test_a_root_always_holds_its_join() -> None:
    assert Scheduler([node("a", join="any_success")], []).join_holds("a")


def test_a_failure_is_handled_by_an_on_failure_or_always_edge() -> None:
    scheduler = Scheduler(
        [node("a"), node("b"), node("c"), node("d")],
        [edge("a", "b"), edge("b", "c", on="failure"), edge("c", "d", on="always")],
    )
    assert not scheduler.handles_failure("a")
    assert scheduler.handles_failure("b")
    assert scheduler.handles_failure("c")
    assert not scheduler.handles_failure("d")

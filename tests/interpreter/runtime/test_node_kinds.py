"""The registry the runtime dispatches through: one way to run per kind, walks into bodies."""

from __future__ import annotations

import pytest

from interpreter.dsl.definition import Node
from interpreter.nodes import (
    FOR_EACH,
    KINDS,
    LOG,
    SUB_WORKFLOW,
    TRANSFORM,
    NodeKind,
    TransformConfig,
    kind_of,
    walk,
)
from tests.support.dag import node

pytestmark = pytest.mark.fast


def test_every_kind_runs_one_way() -> None:
    for kind in KINDS.values():
        ways = [kind.evaluate is not None, kind.execute is not None, kind.activity is not None]
        assert sum(ways) == 1, kind.name


def test_a_kind_with_two_ways_to_run_is_refused() -> None:
    with pytest.raises(ValueError, match="give one of evaluate, execute, activity"):
        NodeKind("both", TransformConfig, evaluate=TRANSFORM.evaluate, activity="transform")


def test_aliases_name_the_same_kind() -> None:
    assert kind_of("echo") is LOG
    assert kind_of("set") is TRANSFORM
    assert kind_of("nope") is None


def _loop(node_id: str, body_nodes: list[dict[str, object]]) -> Node:
    return node(node_id, "for_each", config={"items": "input.xs", "body": {"nodes": body_nodes}})


def test_walk_reaches_nodes_in_for_each_bodies_with_their_pointers_and_paths() -> None:
    inner = _loop("inner", [{"id": "call", "type": "sub_workflow", "config": {}}])
    nodes = [
        node("first", "sub_workflow"),
        node("odd", "no_such_type"),
        _loop("outer", [{"id": "log", "type": "echo"}, inner.model_dump(by_alias=True)]),
    ]
    found = [(p.kind.name, p.pointer, p.path) for p in walk(nodes)]
    assert found == [
        ("sub_workflow", "/nodes/0", "first"),
        ("for_each", "/nodes/2", "outer"),
        ("log", "/nodes/2/config/body/nodes/0", "outer[*].log"),
        ("for_each", "/nodes/2/config/body/nodes/1", "outer[*].inner"),
        (
            "sub_workflow",
            "/nodes/2/config/body/nodes/1/config/body/nodes/0",
            "outer[*].inner[*].call",
        ),
    ]
    assert [p.path for p in walk(nodes) if p.kind is SUB_WORKFLOW] == [
        "first",
        "outer[*].inner[*].call",
    ]


def test_walk_leaves_out_a_body_that_does_not_parse() -> None:
    broken = node("loop", "for_each", config={"items": "input.xs", "body": {"nodes": []}})
    assert [p.kind for p in walk([broken])] == [FOR_EACH]

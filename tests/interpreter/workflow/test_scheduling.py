"""DSL scheduling rules: joins, skips, edge conditions, failure handling."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowFailureError

from tests.support.workflows import Start, node_states


def value(node_id: str, value: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "transform", "config": {"value": value}}


def broken(node_id: str) -> dict[str, Any]:
    """A node that fails at run time (reads a key the input lacks)."""
    return {"id": node_id, "type": "transform", "config": {"value": "{{ input.absent }}"}}


async def test_diamond_joins_both_branches(start: Start) -> None:
    definition = {
        "name": "diamond",
        "nodes": [
            value("a", 1),
            value("b", "{{ nodes.a.output + 1 }}"),
            value("c", "{{ nodes.a.output + 10 }}"),
            value("d", "{{ nodes.b.output + nodes.c.output }}"),
        ],
        "edges": [
            {"from": "a", "to": "b"},
            {"from": "a", "to": "c"},
            {"from": "b", "to": "d"},
            {"from": "c", "to": "d"},
        ],
        "output": "{{ nodes.d.output }}",
    }
    handle = await start(definition, activities=[])
    assert await handle.result() == 13


async def test_any_success_merge_after_switch_and_skip_propagation(start: Start) -> None:
    definition = {
        "name": "switch-merge",
        "nodes": [
            {
                "id": "route",
                "type": "switch",
                "config": {"cases": [{"when": "input.kind == 'a'", "value": "a"}], "default": "b"},
            },
            value("left", "L"),
            value("left2", "L2"),
            value("right", "R"),
            {
                "id": "merge",
                "type": "transform",
                "join": "any_success",
                "config": {"value": "{{ [nodes.left2.status, nodes.right.status] }}"},
            },
        ],
        "edges": [
            {"from": "route", "to": "left", "when": "nodes.route.output.value == 'a'"},
            {"from": "route", "to": "right", "when": "nodes.route.output.value == 'b'"},
            {"from": "left", "to": "left2"},
            {"from": "left2", "to": "merge"},
            {"from": "right", "to": "merge"},
        ],
        "output": "{{ nodes.merge.output }}",
    }
    handle = await start(definition, {"kind": "b"}, activities=[])
    assert await handle.result() == ["skipped", "succeeded"]
    assert await node_states(handle) == {
        "route": "succeeded",
        "left": "skipped",
        "left2": "skipped",
        "right": "succeeded",
        "merge": "succeeded",
    }


async def test_all_success_join_is_skipped_when_a_branch_is_skipped(start: Start) -> None:
    definition = {
        "name": "skip",
        "nodes": [value("a", 1), value("b", 2), value("c", 3), {**value("g", 4), "when": "false"}],
        "edges": [{"from": "a", "to": "g"}, {"from": "g", "to": "c"}, {"from": "b", "to": "c"}],
    }
    handle = await start(definition, activities=[])
    assert await handle.result() == {}
    assert await node_states(handle) == {
        "a": "succeeded",
        "b": "succeeded",
        "c": "skipped",
        "g": "skipped",
    }


async def test_failure_edge_handles_the_failure(start: Start) -> None:
    definition = {
        "name": "handled",
        "nodes": [
            broken("risky"),
            value("next", "not run"),
            value("recover", "{{ nodes.risky.error.type }}"),
        ],
        "edges": [
            {"from": "risky", "to": "next"},
            {"from": "risky", "to": "recover", "on": "failure"},
        ],
        "output": "{{ nodes.recover.output }}",
    }
    handle = await start(definition, {}, activities=[])
    assert await handle.result() == "ExpressionError"
    assert await node_states(handle) == {
        "risky": "failed",
        "next": "skipped",
        "recover": "succeeded",
    }


async def test_always_edge_and_all_done_join(start: Start) -> None:
    definition = {
        "name": "always",
        "nodes": [
            broken("x"),
            value("y", 1),
            {**value("cleanup", "{{ nodes.x.status }}"), "join": "all_done"},
        ],
        "edges": [{"from": "x", "to": "cleanup", "on": "always"}, {"from": "y", "to": "cleanup"}],
        "output": "{{ nodes.cleanup.output }}",
    }
    handle = await start(definition, {}, activities=[])
    assert await handle.result() == "failed"


async def test_on_failure_fail_cancels_running_nodes(start: Start) -> None:
    definition = {
        "name": "fail-fast",
        "nodes": [{"id": "slow", "type": "wait", "config": {"duration": "1h"}}, broken("bad")],
        "edges": [],
    }
    handle = await start(definition, {}, activities=[])
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert "node 'bad'" in str(info.value.cause)
    assert await node_states(handle) == {"slow": "cancelled", "bad": "failed"}


async def test_on_failure_continue_lets_independent_branches_finish(start: Start) -> None:
    definition = {
        "name": "continue",
        "on_failure": "continue",
        "nodes": [
            {"id": "slow", "type": "wait", "config": {"duration": "200ms"}},
            value("after", 1),
            broken("bad"),
            value("downstream", 2),
        ],
        "edges": [{"from": "slow", "to": "after"}, {"from": "bad", "to": "downstream"}],
    }
    handle = await start(definition, {}, activities=[])
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert await node_states(handle) == {
        "slow": "succeeded",
        "after": "succeeded",
        "bad": "failed",
        "downstream": "skipped",
    }


async def test_node_output_mapping_sees_result(start: Start) -> None:
    definition = {
        "name": "mapping",
        "nodes": [
            {
                "id": "big",
                "type": "transform",
                "config": {"value": {"keep": 1, "drop": [1, 2, 3]}},
                "output": "{{ result.keep }}",
            },
            value("use", "{{ nodes.big.output + 1 }}"),
        ],
        "edges": [{"from": "big", "to": "use"}],
        "output": "{{ nodes.use.output }}",
    }
    handle = await start(definition, activities=[])
    assert await handle.result() == 2


async def test_run_variables(start: Start) -> None:
    definition = {
        "name": "vars",
        "nodes": [value("v", "{{ [run.version, run.workflow_id, run.attempt] }}")],
        "output": "{{ nodes.v.output }}",
    }
    handle = await start(definition, activities=[])
    assert await handle.result() == [1, "wf-test", 1]

"""Interpreter-side nodes (no activity): transform, condition, switch, wait, fail, succeed."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowFailureError

from interpreter.contract.client import STATUS_QUERY
from interpreter.contract.run import RunSnapshot
from tests.support.workflows import Start


async def test_transform_condition_switch(start: Start) -> None:
    definition = {
        "name": "pure",
        "nodes": [
            {
                "id": "shape",
                "type": "transform",
                "config": {
                    "value": {
                        "name": "{{ input.name }}",
                        "n": "{{ input.n * 2 }}",
                        "greeting": "hi {{ input.name }} x{{ input.n }}",
                    }
                },
            },
            {
                "id": "big",
                "type": "condition",
                "config": {"any": ["nodes.shape.output.n > 100", {"all": ["input.n > 1", "true"]}]},
            },
            {
                "id": "route",
                "type": "switch",
                "config": {
                    "cases": [
                        {"when": "nodes.shape.output.n < 5", "value": "small"},
                        {"when": "nodes.shape.output.n < 50", "value": "{{ 'mid-' + input.name }}"},
                    ],
                    "default": "large",
                },
            },
            {"id": "alias", "type": "set", "config": {"value": "{{ [nodes.route.output.value] }}"}},
        ],
        "edges": [
            {"from": "shape", "to": "big"},
            {"from": "shape", "to": "route"},
            {"from": "route", "to": "alias"},
        ],
        "output": {
            "shape": "{{ nodes.shape.output }}",
            "big": "{{ nodes.big.output.result }}",
            "route": "{{ nodes.alias.output }}",
        },
    }
    handle = await start(definition, {"name": "ada", "n": 7}, activities=[])
    assert await handle.result() == {
        "shape": {"name": "ada", "n": 14, "greeting": "hi ada x7"},
        "big": True,
        "route": ["mid-ada"],
    }
    snapshot = await handle.query(STATUS_QUERY, result_type=RunSnapshot)
    assert snapshot.status == "succeeded"
    assert {n.id: n.status.value for n in snapshot.nodes} == {
        "shape": "succeeded",
        "big": "succeeded",
        "route": "succeeded",
        "alias": "succeeded",
    }


async def test_wait_then_default_output_of_sinks(start: Start) -> None:
    definition = {
        "name": "wait",
        "nodes": [
            {"id": "pause", "type": "wait", "config": {"duration": "300ms"}},
            {"id": "done", "type": "transform", "config": {"value": 1}},
        ],
        "edges": [{"from": "pause", "to": "done"}],
    }
    handle = await start(definition, activities=[])
    assert await handle.result() == {"done": 1}


async def test_fail_node_fails_the_run(start: Start) -> None:
    definition = {
        "name": "fail",
        "nodes": [{"id": "stop", "type": "fail", "config": {"message": "bad input {{ input.x }}"}}],
    }
    handle = await start(definition, {"x": 3}, activities=[])
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert "bad input 3" in str(info.value.cause)
    snapshot = await handle.query(STATUS_QUERY, result_type=RunSnapshot)
    assert snapshot.status == "failed"
    assert snapshot.error is not None
    assert snapshot.error.type == "Fail"


async def test_succeed_node_ends_early_and_skips_the_rest(start: Start) -> None:
    definition = {
        "name": "succeed",
        "nodes": [
            {"id": "slow", "type": "wait", "config": {"duration": "1h"}},
            {"id": "quick", "type": "succeed", "config": {"output": {"ok": "{{ input.x }}"}}},
            {"id": "after", "type": "transform", "config": {"value": 1}},
        ],
        "edges": [{"from": "slow", "to": "after"}],
    }
    handle = await start(definition, {"x": 5}, activities=[])
    assert await handle.result() == {"ok": 5}
    snapshot = await handle.query(STATUS_QUERY, result_type=RunSnapshot)
    states = {n.id: n.status.value for n in snapshot.nodes}
    assert states == {"quick": "succeeded", "slow": "cancelled", "after": "skipped"}


async def test_runtime_expression_error_names_node_and_field(start: Start) -> None:
    definition = {
        "name": "err",
        "nodes": [
            {"id": "calc", "type": "transform", "config": {"value": {"x": "{{ input.missing }}"}}}
        ],
    }
    handle = await start(definition, {}, activities=[])
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    message = str(info.value.cause)
    assert "node 'calc'" in message
    assert "config/value/x" in message
    assert "missing" in message

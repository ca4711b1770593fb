"""Expression cost on the real stack: a hostile expression fails alone, fast.

The ``cel`` binding holds the GIL while it evaluates, so before expressions
were priced, one nested comprehension over 100 items blocked its workflow
task past the deadlock detector (again at every retry of the task) and every
other run on the same worker with it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError

from interpreter.contract.client import STATUS_QUERY
from interpreter.contract.run import RunSnapshot
from tests.support.workflows import Start

HOSTILE = "{{ size(input.l.map(a, input.l.map(b, input.l.map(c, 1)))) }}"

TRIVIAL = {
    "name": "trivial",
    "nodes": [
        {"id": "a", "type": "transform", "config": {"value": "{{ input.n + 1 }}"}},
        {"id": "b", "type": "transform", "config": {"value": "{{ nodes.a.output * 2 }}"}},
    ],
    "edges": [{"from": "a", "to": "b"}],
    "output": "{{ nodes.b.output }}",
}


async def _failed_node(handle: Any) -> tuple[str, Any]:
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    snapshot = await handle.query(STATUS_QUERY, result_type=RunSnapshot)
    return str(info.value.cause), snapshot


async def _trivial_seconds(start: Start, runs: int) -> list[float]:
    seconds = []
    for n in range(runs):
        began = time.perf_counter()
        handle = await start(TRIVIAL, {"n": n}, activities=[])
        assert await handle.result() == (n + 1) * 2
        seconds.append(time.perf_counter() - began)
    return seconds


async def test_a_hostile_expression_fails_its_node_and_leaves_other_runs_alone(
    start: Start,
) -> None:
    await _trivial_seconds(start, 2)  # warm the worker and the server
    baseline = statistics.median(await _trivial_seconds(start, 9))
    hostile_definition = {
        "name": "hostile",
        "nodes": [{"id": "boom", "type": "transform", "config": {"value": HOSTILE}}],
    }
    began = time.perf_counter()
    hostile = [
        await start(hostile_definition, {"l": list(range(100))}, activities=[]) for _ in range(3)
    ]
    beside = asyncio.ensure_future(_trivial_seconds(start, 9))
    outcomes = [await _failed_node(handle) for handle in hostile]
    hostile_seconds = time.perf_counter() - began
    with_hostile = statistics.median(await beside)
    print(
        f"trivial run: baseline median {baseline:.3f}s, beside 3 hostile runs "
        f"{with_hostile:.3f}s; the hostile runs failed within {hostile_seconds:.3f}s"
    )
    for message, snapshot in outcomes:
        assert "node 'boom'" in message
        assert "config/value" in message
        assert "FLOWFORGE_EXPRESSION_COST_LIMIT" in message
        assert snapshot.error is not None
        assert snapshot.error.type == "ExpressionTooCostly"
        (node,) = snapshot.nodes
        assert node.status == "failed"
        assert node.attempts == 1
    assert with_hostile <= 2 * baseline
    assert hostile_seconds < 10


async def test_the_result_size_limit_fails_the_node(start: Start) -> None:
    definition = {
        "name": "wide",
        "nodes": [
            {"id": "ok", "type": "transform", "config": {"value": "{{ input.l.map(a, a) }}"}},
            {
                "id": "wide",
                "type": "transform",
                "config": {"value": {"v": "{{ input.l.map(a, 'x-x-x-x-x-x-x-x-x-x') }}"}},
            },
        ],
        "edges": [{"from": "ok", "to": "wide"}],
    }
    handle = await start(
        definition, {"l": list(range(100))}, activities=[], expression_result_bytes=1024
    )
    message, snapshot = await _failed_node(handle)
    assert "node 'wide'" in message
    assert "config/value/v" in message
    assert "FLOWFORGE_EXPRESSION_RESULT_BYTES" in message
    assert snapshot.error is not None
    assert snapshot.error.type == "ExpressionTooCostly"
    assert [n.status for n in snapshot.nodes] == ["succeeded", "failed"]


async def test_a_guard_and_an_edge_are_priced_too(start: Start) -> None:
    hostile = "size(input.l.map(a, input.l.map(b, input.l.map(c, 1)))) > 0"
    definition = {
        "name": "guarded",
        "nodes": [{"id": "g", "type": "transform", "when": hostile, "config": {"value": 1}}],
    }
    message, snapshot = await _failed_node(await start(definition, {"l": list(range(100))}))
    assert "node 'g'" in message
    assert "when:" in message
    assert snapshot.error is not None
    assert snapshot.error.type == "ExpressionTooCostly"


async def test_an_activity_rule_over_the_limit_fails_once_not_retried(start: Start) -> None:
    definition = {
        "name": "rules",
        "nodes": [
            {
                "id": "check",
                "type": "validate",
                "retry": {"max_attempts": 3, "initial_interval": "10ms"},
                "config": {
                    "data": "{{ input }}",
                    "rules": [
                        {"expr": "size(data.l) > 0", "message": "empty"},
                        {
                            "expr": "size(data.l.map(a, data.l.map(b, data.l.map(c, 1)))) > 0",
                            "message": "never",
                        },
                    ],
                },
            }
        ],
    }
    message, snapshot = await _failed_node(await start(definition, {"l": list(range(100))}))
    assert "node 'check'" in message
    assert "config.rules[1].expr" in message
    assert snapshot.error is not None
    assert snapshot.error.type == "ExpressionTooCostly"
    (node,) = snapshot.nodes
    assert node.attempts == 1

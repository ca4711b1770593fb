"""Humans in the loop: wait_for_signal, suspend with retry/skip, sub_workflow, continue-as-new."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError

from interpreter.contract.client import (
    RETRY_NODE_UPDATE,
    SIGNAL_UPDATE,
    SKIP_NODE_UPDATE,
    start_run,
)
from interpreter.contract.run import PinnedWorkflow, RunInput, RunMeta, child_key
from interpreter.contract.shared import SHARED
from interpreter.dsl.definition import Definition
from interpreter.runtime.operator import NodeRetry, NodeSkip, SignalDelivery
from interpreter.validation.definition import validate_definition
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply
from tests.support.workflows import (
    Start,
    new_worker,
    node_is,
    node_states,
    run_is,
    snapshot,
    suspending,
)

APPROVAL: dict[str, Any] = {
    "name": "approval",
    "nodes": [
        {
            "id": "decision",
            "type": "wait_for_signal",
            "config": {
                "signal": "approval",
                "timeout": "{{ '1h' }}",
                "schema": {
                    "type": "object",
                    "required": ["approved"],
                    "properties": {"approved": {"type": "boolean"}},
                },
            },
        },
        {"id": "pay", "type": "transform", "config": {"value": "paid"}},
        {"id": "reject", "type": "transform", "config": {"value": "rejected"}},
    ],
    "edges": [
        {"from": "decision", "to": "pay", "when": "nodes.decision.output.approved"},
        {"from": "decision", "to": "reject", "when": "!nodes.decision.output.approved"},
    ],
}


async def test_signal_with_bad_payload_is_refused_and_node_keeps_waiting(start: Start) -> None:
    handle = await start(
        {
            **APPROVAL,
            "nodes": [
                {
                    **APPROVAL["nodes"][0],
                    "config": {**APPROVAL["nodes"][0]["config"], "timeout": "1h"},
                },
                *APPROVAL["nodes"][1:],
            ],
        },
        activities=[],
    )
    await eventually(lambda: node_is(handle, "decision", "waiting"))
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(
            SIGNAL_UPDATE, SignalDelivery(name="approval", payload={"approved": "yes"})
        )
    assert "approved" in str(info.value.cause)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(SIGNAL_UPDATE, SignalDelivery(name="nobody", payload={}))
    assert (await node_states(handle))["decision"] == "waiting"
    accepted = await handle.execute_update(
        SIGNAL_UPDATE, SignalDelivery(name="approval", payload={"approved": True})
    )
    assert accepted["accepted"] is True
    assert await handle.result() == {"pay": "paid"}


async def test_signal_timeout_fails_the_node(start: Start) -> None:
    definition = {
        **APPROVAL,
        "nodes": [
            {
                "id": "decision",
                "type": "wait_for_signal",
                "config": {"signal": "approval", "timeout": "300ms"},
            },
            {"id": "pay", "type": "transform", "config": {"value": 1}},
        ],
        "edges": [{"from": "decision", "to": "pay"}],
    }
    handle = await start(definition, activities=[])
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert "no 'approval' signal within 300ms" in str(info.value.cause)
    node = (await snapshot(handle)).nodes[0]
    assert node.error is not None
    assert node.error.type == "SignalTimeout"


async def test_suspend_then_retry_with_patched_config(start: Start, peer: Peer) -> None:
    peer.route("/charge", Reply(500))
    peer.route("/charge2", Reply(200, {"charged": True}))
    handle = await start(suspending(peer.url, ship="{{ nodes.charge.output.body }}"))
    await eventually(lambda: run_is(handle, "suspended"))
    current = await snapshot(handle)
    assert current.suspended_on == "charge"
    assert current.nodes[0].status == "failed"
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(RETRY_NODE_UPDATE, NodeRetry(node_id="ship"))
    status = await handle.execute_update(
        RETRY_NODE_UPDATE, NodeRetry(node_id="charge", config={"url": f"{peer.url}/charge2"})
    )
    assert status == "running"
    assert await handle.result() == {"charged": True}
    assert (await snapshot(handle)).nodes[0].attempts == 2
    # The patch went to the run's own copy of the node, not to the definition runs share.
    urls = [
        model.nodes[0].config["url"]  # type: ignore[attr-defined]
        for _, model in SHARED.entries("definition")
        if model.name == "suspend"  # type: ignore[attr-defined]
    ]
    assert urls == [f"{peer.url}/charge"]


async def test_suspend_then_skip_with_output(start: Start, peer: Peer) -> None:
    peer.route("/charge", Reply(500))
    handle = await start(suspending(peer.url, ship="{{ nodes.charge.output.body }}"))
    await eventually(lambda: run_is(handle, "suspended"))
    await handle.execute_update(
        SKIP_NODE_UPDATE, NodeSkip(node_id="charge", output={"body": "manual"})
    )
    assert await handle.result() == "manual"
    assert (await node_states(handle))["charge"] == "skipped"


async def test_sub_workflow_runs_the_pinned_child(start: Start) -> None:
    child_def, _ = validate_definition(
        {
            "name": "child",
            "nodes": [
                {"id": "twice", "type": "transform", "config": {"value": "{{ input.n * 2 }}"}}
            ],
            "output": "{{ nodes.twice.output }}",
        }
    )
    assert child_def is not None
    parent = {
        "name": "parent",
        "nodes": [
            {
                "id": "call",
                "type": "sub_workflow",
                "config": {"workflow_id": "wf-child", "input": {"n": "{{ input.n }}"}},
            }
        ],
        "output": "{{ nodes.call.output }}",
    }
    children = {
        child_key("wf-child", None): PinnedWorkflow(
            workflow_id="wf-child", version=3, definition=child_def
        )
    }
    handle = await start(parent, {"n": 21}, activities=[], children=children)
    assert await handle.result() == 42


async def test_sub_workflow_cancel_propagates(start: Start, client: Any) -> None:
    child_def, _ = validate_definition(
        {"name": "child", "nodes": [{"id": "nap", "type": "wait", "config": {"duration": "1h"}}]}
    )
    assert child_def is not None
    parent = {
        "name": "parent",
        "nodes": [
            {"id": "call", "type": "sub_workflow", "config": {"workflow_id": "c", "version": 1}}
        ],
    }
    handle = await start(
        parent,
        activities=[],
        children={
            child_key("c", 1): PinnedWorkflow(workflow_id="c", version=1, definition=child_def)
        },
    )
    await eventually(lambda: node_is(handle, "call", "running"))
    child = client.get_workflow_handle(f"{handle.id}/call")
    await eventually(lambda: node_is(child, "nap", "waiting"))
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert (await child.describe()).status.name == "CANCELED"


async def test_continue_as_new_keeps_state_and_the_run_id(start: Start, client: Any) -> None:
    chain = [{"id": f"s{i}", "type": "wait", "config": {"duration": "10ms"}} for i in range(12)]
    chain.append(
        {"id": "sum", "type": "transform", "config": {"value": "{{ [nodes.s0.status, input.x] }}"}}
    )
    edges = [{"from": f"s{i}", "to": f"s{i + 1}"} for i in range(11)] + [
        {"from": "s11", "to": "sum"}
    ]
    handle = await start(
        {"name": "long", "nodes": chain, "edges": edges, "output": "{{ nodes.sum.output }}"},
        {"x": 7},
        activities=[],
        continue_as_new_after_events=20,
    )
    assert await handle.result() == ["succeeded", 7]
    runs = [w async for w in client.list_workflows(f"WorkflowId = '{handle.id}'")]
    assert len(runs) >= 3
    final = await snapshot(handle)
    assert all(n.status == "succeeded" for n in final.nodes)


async def test_a_signal_schema_with_a_remote_ref_is_refused_without_a_fetch(
    client: Client, task_queue: str, peer: Peer
) -> None:
    # Started straight on Temporal: no save-time check ever saw this schema.
    peer.route("/schema.json", Reply(body={"type": "object"}, delay=5.0))
    raw = {
        "name": "remote-signal-schema",
        "nodes": [
            {
                "id": "decision",
                "type": "wait_for_signal",
                "config": {"signal": "go", "schema": {"$ref": f"{peer.url}/schema.json"}},
            }
        ],
    }
    run = RunInput(
        definition=Definition.model_validate(raw),
        meta=RunMeta(workflow_id="wf-test", version=1, owner="tester"),
    )
    async with new_worker(client, task_queue, activities=[]):
        handle = await start_run(
            client, run, id=f"run-{uuid.uuid4().hex[:12]}", task_queue=task_queue
        )
        await eventually(lambda: node_is(handle, "decision", "waiting"))
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update(SIGNAL_UPDATE, SignalDelivery(name="go", payload={}))
        refusal = str(info.value.cause)
        assert "the signal's schema cannot be applied" in refusal
        assert "/$ref" in refusal
        assert "only local references (#...)" in refusal
        assert (await node_states(handle))["decision"] == "waiting"
        await handle.terminate()
    assert peer.requests == []

"""Pause, resume, cancel and the run timeout, on live runs."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError, TimeoutError

from interpreter.contract import search_attributes as sa
from interpreter.contract.client import PAUSE_SIGNAL, RESUME_SIGNAL
from tests.support.eventually import eventually
from tests.support.workflows import Start, node_is, run_is, snapshot

CHAIN: dict[str, Any] = {
    "name": "chain",
    "nodes": [
        {"id": "first", "type": "wait", "config": {"duration": "1s"}},
        {"id": "second", "type": "transform", "config": {"value": "done"}},
    ],
    "edges": [{"from": "first", "to": "second"}],
    "output": "{{ nodes.second.output }}",
}


async def test_pause_holds_new_nodes_and_resume_continues(start: Start) -> None:
    handle = await start(CHAIN, activities=[])
    await eventually(lambda: node_is(handle, "first", "waiting"))
    await handle.signal(PAUSE_SIGNAL)
    await eventually(lambda: run_is(handle, "paused"))
    # `first` finishes its timer while paused; `second` must not start.
    await eventually(lambda: node_is(handle, "first", "succeeded"))
    current = await snapshot(handle)
    assert {n.id: n.status.value for n in current.nodes}["second"] == "pending"
    described = await handle.describe()
    assert described.typed_search_attributes.get(sa.STATUS) == "paused"
    await handle.signal(RESUME_SIGNAL)
    assert await handle.result() == "done"
    described = await handle.describe()
    assert described.typed_search_attributes.get(sa.STATUS) == "succeeded"


async def test_cancel_cancels_running_nodes(start: Start) -> None:
    handle = await start(
        {
            **CHAIN,
            "nodes": [{**CHAIN["nodes"][0], "config": {"duration": "1h"}}, CHAIN["nodes"][1]],
        },
        activities=[],
    )
    await eventually(lambda: node_is(handle, "first", "waiting"))
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert isinstance(info.value.cause, CancelledError)
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    final = await snapshot(handle)
    assert final.status == "cancelled"
    assert {n.id: n.status.value for n in final.nodes} == {
        "first": "cancelled",
        "second": "cancelled",
    }


async def test_run_timeout_ends_the_run(start: Start) -> None:
    handle = await start(
        {
            **CHAIN,
            "timeout": "1s",
            "nodes": [{**CHAIN["nodes"][0], "config": {"duration": "1h"}}, CHAIN["nodes"][1]],
        },
        activities=[],
    )
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert isinstance(info.value.cause, TimeoutError)
    assert (await handle.describe()).status == WorkflowExecutionStatus.TIMED_OUT


async def test_runs_are_listed_through_visibility_and_show_current_nodes(start: Start) -> None:
    from temporalio.api.sdk.v1 import WorkflowMetadata

    handle = await start(
        {
            **CHAIN,
            "nodes": [{**CHAIN["nodes"][0], "config": {"duration": "1h"}}, CHAIN["nodes"][1]],
        },
        activities=[],
    )
    await eventually(lambda: node_is(handle, "first", "waiting"))
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert "first (wait)" in metadata.current_details
    query = (
        f"WorkflowId = '{handle.id}' AND FlowForgeWorkflowId = 'wf-test' "
        "AND FlowForgeOwner = 'tester' AND FlowForgeVersion = 1 AND FlowForgeStatus = 'running'"
    )

    async def listed() -> bool:
        return [w.id async for w in handle._client.list_workflows(query)] == [handle.id]

    await eventually(listed)
    await handle.cancel()

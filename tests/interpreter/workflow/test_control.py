"""Pause, resume, cancel and the run timeout, on live runs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import CancelledError, TimeoutError
from temporalio.service import RPCError

from interpreter.contract import search_attributes as sa
from interpreter.contract.client import PAUSE_SIGNAL, RESUME_SIGNAL, STATUS_QUERY
from interpreter.contract.run import RunSnapshot
from tests.interpreter.workflow.conftest import Start

CHAIN = {
    "name": "chain",
    "nodes": [
        {"id": "first", "type": "wait", "config": {"duration": "1s"}},
        {"id": "second", "type": "transform", "config": {"value": "done"}},
    ],
    "edges": [{"from": "first", "to": "second"}],
    "output": "{{ nodes.second.output }}",
}


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll ``check`` until true; errors (e.g. a workflow not started yet) count as false."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await _safely(check):
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def _safely(check: Callable[[], Awaitable[bool]]) -> bool:
    try:
        return await check()
    except RPCError:
        return False


async def snapshot(handle: WorkflowHandle[object, object]) -> RunSnapshot:
    return await handle.query(STATUS_QUERY, result_type=RunSnapshot)


async def test_pause_holds_new_nodes_and_resume_continues(start: Start) -> None:
    handle = await start(CHAIN, activities=[])
    await eventually(lambda: _node_is(handle, "first", "waiting"))
    await handle.signal(PAUSE_SIGNAL)
    await eventually(lambda: _status_is(handle, "paused"))
    # `first` finishes its timer while paused; `second` must not start.
    await eventually(lambda: _node_is(handle, "first", "succeeded"))
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
    await eventually(lambda: _node_is(handle, "first", "waiting"))
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


async def _status_is(handle: WorkflowHandle[object, object], status: str) -> bool:
    return (await snapshot(handle)).status.value == status


async def _node_is(handle: WorkflowHandle[object, object], node: str, status: str) -> bool:
    current = await snapshot(handle)
    return {n.id: n.status.value for n in current.nodes}[node] == status


async def test_runs_are_listed_through_visibility_and_show_current_nodes(start: Start) -> None:
    from temporalio.api.sdk.v1 import WorkflowMetadata

    handle = await start(
        {
            **CHAIN,
            "nodes": [{**CHAIN["nodes"][0], "config": {"duration": "1h"}}, CHAIN["nodes"][1]],
        },
        activities=[],
    )
    await eventually(lambda: _node_is(handle, "first", "waiting"))
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

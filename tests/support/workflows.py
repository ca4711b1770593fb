"""Running definitions on the interpreter: run inputs, a worker, and a run's live state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from interpreter.contract.client import STATUS_QUERY
from interpreter.contract.run import (
    ItemReuse,
    PinnedWorkflow,
    RunInput,
    RunMeta,
    RunOptions,
    RunSnapshot,
)
from interpreter.contract.testing import TestSpec
from interpreter.validation.definition import validate_definition

Start = Callable[..., Awaitable[WorkflowHandle[Any, Any]]]
"""``await start(definition, input, **run_options)``: the workflow tests' ``start`` fixture."""


def suspending(url: str, ship: str = "{{ nodes.charge.output }}") -> dict[str, Any]:
    """``charge`` (GET ``{url}/charge``, no retries) then ``ship`` (``ship`` as its value);
    a failure suspends the run for an operator."""
    return {
        "name": "suspend",
        "on_failure": "suspend",
        "nodes": [
            {
                "id": "charge",
                "type": "http",
                "retry": {"strategy": "none"},
                "config": {"method": "GET", "url": f"{url}/charge"},
            },
            {"id": "ship", "type": "transform", "config": {"value": ship}},
        ],
        "edges": [{"from": "charge", "to": "ship"}],
        "output": "{{ nodes.ship.output }}",
    }


def make_run(
    definition: dict[str, Any],
    input: Any = None,
    children: dict[str, PinnedWorkflow] | None = None,
    reuse: dict[str, Any] | None = None,
    reuse_items: dict[str, ItemReuse] | None = None,
    test: TestSpec | None = None,
    **options: Any,
) -> RunInput:
    """The input of a run of ``definition``, which must be valid."""
    parsed, issues = validate_definition(definition)
    assert parsed is not None, [i.model_dump() for i in issues]
    return RunInput(
        definition=parsed,
        input=input,
        meta=RunMeta(workflow_id="wf-test", version=1, owner="tester", test=test),
        options=RunOptions(**options),
        children=children or {},
        reuse=reuse or {},
        reuse_items=reuse_items or {},
    )


def new_worker(
    client: Client,
    task_queue: str,
    activities: Sequence[Callable[..., Any]] | None = None,
    *,
    tracing: bool = False,
) -> Worker:
    """The interpreter worker on ``task_queue``, not yet started.

    Args:
        client: A client with the interpreter's data converter.
        task_queue: The test's own task queue.
        activities: The activities to register; ``None`` registers the real node
            activities, with the egress guard letting through the peers on 127.0.0.1.
        tracing: Trace its runs (``FLOWFORGE_TRACING``): give it a provider first.

    Returns:
        The worker, to run with ``async with``.
    """
    from tests.support.activities import TEST_RUN_KEY
    from worker.runtime import create_worker
    from worker.settings import WorkerSettings

    settings = WorkerSettings(
        egress_allow=["127.0.0.1/32"],
        graceful_shutdown_seconds=0,
        heartbeat_throttle_seconds=0.5,
        run_signing_key=TEST_RUN_KEY,
        tracing=tracing,
    )
    return create_worker(client, settings, task_queue=task_queue, activities=activities)


async def snapshot(handle: WorkflowHandle[Any, Any]) -> RunSnapshot:
    """The run's live state, from its status query."""
    current: RunSnapshot = await handle.query(STATUS_QUERY, result_type=RunSnapshot)
    return current


async def node_states(handle: WorkflowHandle[Any, Any]) -> dict[str, str]:
    """Each node's status by node id."""
    return {n.id: n.status.value for n in (await snapshot(handle)).nodes}


async def node_is(handle: WorkflowHandle[Any, Any], node: str, status: str) -> bool:
    return (await node_states(handle))[node] == status


async def run_is(handle: WorkflowHandle[Any, Any], status: str) -> bool:
    return (await snapshot(handle)).status.value == status

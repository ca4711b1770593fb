"""Fixtures for running definitions on a real Temporal dev server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from interpreter import tracing
from interpreter.contract.client import start_run
from interpreter.contract.run import ItemReuse, PinnedWorkflow, ScheduledRollout
from interpreter.contract.testing import TestSpec
from tests.support.workflows import Start, make_run, new_worker


@pytest.fixture
async def start(client: Client, task_queue: str) -> AsyncIterator[Start]:
    """``await start(definition, input, **run_options)`` with a worker polling meanwhile.

    Activities default to the real node activities with the egress guard
    allowing 127.0.0.1 (the tests' peers).
    """
    workers: dict[bool, Worker] = {}
    traced_queue = f"{task_queue}-traced"
    kept = (tracing._provider, tracing._enabled, tracing._send_outbound)

    async def _start(
        definition: dict[str, Any],
        input: Any = None,
        *,
        activities: list[Callable[..., Any]] | None = None,
        children: dict[str, PinnedWorkflow] | None = None,
        reuse: dict[str, Any] | None = None,
        reuse_items: dict[str, ItemReuse] | None = None,
        test: TestSpec | None = None,
        rollout: ScheduledRollout | None = None,
        traced: bool = False,
        **options: Any,
    ) -> WorkflowHandle[Any, Any]:
        if traced not in workers:
            if traced:  # spans stay in memory: nothing is exported anywhere
                tracing._provider = TracerProvider()
            queue = traced_queue if traced else task_queue
            workers[traced] = new_worker(client, queue, activities, tracing=traced)
            await workers[traced].__aenter__()
        run = make_run(
            definition, input, children, reuse, reuse_items=reuse_items, test=test, **options
        )
        if rollout is not None:  # as a schedule's action carries it
            run = run.model_copy(update={"rollout": rollout})
        return await start_run(
            client,
            run,
            id=f"run-{uuid.uuid4().hex[:12]}",
            task_queue=traced_queue if traced else task_queue,
        )

    yield _start
    for worker in workers.values():
        await worker.__aexit__(None, None, None)
    tracing._provider, tracing._enabled, tracing._send_outbound = kept

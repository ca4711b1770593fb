"""Fixtures for running definitions on a real Temporal dev server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from interpreter.contract.client import DATA_CONVERTER, start_run
from interpreter.contract.run import PinnedWorkflow, RunInput, RunMeta, RunOptions
from interpreter.validation.definition import validate_definition

Start = Callable[..., Awaitable[WorkflowHandle[Any, Any]]]


@pytest.fixture(scope="session")
async def client(temporal_client: Client) -> Client:
    config = temporal_client.config()
    config["data_converter"] = DATA_CONVERTER
    return Client(**config)


def make_run(
    definition: dict[str, Any],
    input: Any = None,
    children: dict[str, PinnedWorkflow] | None = None,
    reuse: dict[str, Any] | None = None,
    **options: Any,
) -> RunInput:
    parsed, issues = validate_definition(definition)
    assert parsed is not None, [i.model_dump() for i in issues]
    return RunInput(
        definition=parsed,
        input=input,
        meta=RunMeta(workflow_id="wf-test", version=1, owner="tester"),
        options=RunOptions(**options),
        children=children or {},
        reuse=reuse or {},
    )


@pytest.fixture
async def start(client: Client, task_queue: str) -> AsyncIterator[Start]:
    """``await start(definition, input, **run_options)`` with a worker polling meanwhile.

    Activities default to the real node activities with the egress guard
    allowing 127.0.0.1 (the tests' peers).
    """
    workers: list[Worker] = []

    async def _start(
        definition: dict[str, Any],
        input: Any = None,
        *,
        activities: list[Callable[..., Any]] | None = None,
        children: dict[str, PinnedWorkflow] | None = None,
        reuse: dict[str, Any] | None = None,
        **options: Any,
    ) -> WorkflowHandle[Any, Any]:
        if not workers:
            workers.append(_worker(client, task_queue, activities))
            await workers[0].__aenter__()
        run = make_run(definition, input, children, reuse, **options)
        return await start_run(
            client, run, id=f"run-{uuid.uuid4().hex[:12]}", task_queue=task_queue
        )

    yield _start
    for worker in workers:
        await worker.__aexit__(None, None, None)


def _worker(client: Client, task_queue: str, activities: list[Callable[..., Any]] | None) -> Worker:
    from worker.runtime import create_worker
    from worker.settings import WorkerSettings

    settings = WorkerSettings(
        egress_allow=["127.0.0.1/32"], graceful_shutdown_seconds=0, heartbeat_throttle_seconds=0.5
    )
    return create_worker(client, settings, task_queue=task_queue, activities=activities)

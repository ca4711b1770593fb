"""What a Temporal client needs to start and control interpreter runs.

The API and the tests start runs only through :func:`start_run`, so the
workflow type, timeouts and search attributes are set in one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import Client, Interceptor, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime

from interpreter.contract import search_attributes as sa
from interpreter.contract.codec import EncryptionCodec
from interpreter.contract.converter import SharedAdapterPayloadConverter
from interpreter.contract.run import RunInput, RunStatus
from interpreter.dsl.durations import parse_duration

WORKFLOW_TYPE = "InterpreterWorkflow"
STATUS_QUERY = "status"
PAUSE_SIGNAL = "pause"
RESUME_SIGNAL = "resume"
NODE_STATS_MEMO = "flowforge_nodes"
"""Memo key a finished run leaves: ``{node_id: {"s": status, "a": attempts, "ms": duration}}``.
Also the ``workflow.patched`` id that introduced it."""
TRACE_ID_MEMO = "flowforge_trace_id"
"""Memo key under which a traced run keeps its trace id (shown by the API)."""
OUTPUTS_QUERY = "node_outputs"
"""Full (untruncated) outputs of the given top-level nodes; takes a list of node ids."""
ITEM_OUTPUTS_QUERY = "item_outputs"
"""What a run holds of one top-level for_each's items (``ItemsAsked`` -> ``ItemOutputs``)."""
TEST_REPORT_QUERY = "test_report"
"""A test run's record of each node, by path: mocked or not, its rendered config."""
SIGNAL_UPDATE = "signal"
"""Update delivering a payload to wait_for_signal nodes (``control.SignalDelivery``)."""
RETRY_NODE_UPDATE = "retry_node"
"""Update re-running a suspended run's failed node (``control.NodeRetry``)."""
SKIP_NODE_UPDATE = "skip_node"
"""Update skipping a suspended run's failed node with an output (``control.NodeSkip``)."""
STEP_UPDATE = "step"
"""Update letting a paused run start only the nodes ready now, then pause again."""
BREAKPOINTS_UPDATE = "breakpoints"
"""Update replacing a run's breakpoints (``control.Breakpoints``)."""
SCOPE_QUERY = "scope"
"""What the node a run is paused before will see: its variables and rendered config."""


PLAIN_CONVERTER: DataConverter = DataConverter(
    payload_converter_class=SharedAdapterPayloadConverter
)
"""Pydantic models as JSON, with no codec: what Temporal stored before payloads were sealed."""


def data_converter(codec: EncryptionCodec | None) -> DataConverter:
    """FlowForge's converter: pydantic models as JSON, sealed by ``codec``.

    Processes build theirs from their settings (``CommonSettings.data_converter``).
    While the codec seals, failures carry their message and stack trace as an
    encoded payload too, so history shows no error text in plaintext.
    """
    if codec is None:
        return PLAIN_CONVERTER
    if not codec.encrypts:
        return dataclasses.replace(PLAIN_CONVERTER, payload_codec=codec)
    return dataclasses.replace(
        PLAIN_CONVERTER,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(
    address: str,
    namespace: str = "default",
    runtime: Runtime | None = None,
    *,
    converter: DataConverter,
    interceptors: Sequence[Interceptor] = (),
) -> Client:
    """A Temporal client with ``converter`` (see :func:`data_converter`), and a runtime if given."""
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=converter,
        runtime=runtime,
        interceptors=interceptors,
    )


def run_search_attributes(run: RunInput) -> TypedSearchAttributes:
    """The attributes a run starts with, so visibility lists it by workflow, owner and trigger."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(sa.VERSION, run.meta.version),
        SearchAttributePair(sa.OWNER, run.meta.owner),
        SearchAttributePair(sa.STATUS, RunStatus.RUNNING.value),
        SearchAttributePair(sa.TRIGGER, run.meta.trigger),
    ]
    if run.meta.workflow_id:  # a test run of a bare definition belongs to no workflow
        pairs.insert(0, SearchAttributePair(sa.WORKFLOW_ID, run.meta.workflow_id))
    return TypedSearchAttributes(pairs)


def execution_timeout(run: RunInput) -> timedelta | None:
    """The run's ``timeout`` as Temporal's workflow execution timeout."""
    timeout = run.definition.timeout
    return parse_duration(timeout) if timeout else None


async def start_run(
    client: Client, run: RunInput, *, id: str, task_queue: str, **options: Any
) -> WorkflowHandle[Any, Any]:
    """Start an interpreter run.

    ``options`` go to ``Client.start_workflow`` (e.g. ``id_conflict_policy``
    for idempotent starts).
    """
    return await client.start_workflow(
        WORKFLOW_TYPE,
        run,
        id=id,
        task_queue=task_queue,
        execution_timeout=execution_timeout(run),
        search_attributes=run_search_attributes(run),
        static_summary=f"{run.definition.name} v{run.meta.version}",
        **options,
    )

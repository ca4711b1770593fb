"""What a rerun starts from: the old run's own input, and the outputs it may reuse."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError

from app.runs.reading import snapshot
from interpreter.contract.client import OUTPUTS_QUERY
from interpreter.contract.run import RunInput
from interpreter.dsl.definition import Definition
from interpreter.dsl.graph import Graph
from interpreter.dsl.payloads import payload_bytes


async def original_input(client: Client, handle: WorkflowHandle[Any, Any]) -> RunInput | None:
    """The :class:`RunInput` the run's newest execution started with.

    After a continue-as-new that input also carries the run's progress
    (``carry``); the definition, input and pins are those of the first one.
    """
    async for event in handle.fetch_history_events(page_size=1):
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        values = await client.data_converter.decode(payloads, [RunInput]) if payloads else []
        return values[0] if values and isinstance(values[0], RunInput) else None
    return None


def upstream_of(definition: Definition, node_id: str) -> list[str] | None:
    """The ids of every node with a path to ``node_id`` (None if there is no such node)."""
    graph = Graph.build(
        [node.id for node in definition.nodes],
        [(edge.source, edge.target) for edge in definition.edges],
    )
    if node_id not in graph.parents:
        return None
    return sorted(graph.ancestors()[node_id])


async def node_outputs(
    handle: WorkflowHandle[Any, Any], node_ids: list[str], wait: timedelta, budget: int = 0
) -> dict[str, Any] | None:
    """Full outputs of those of ``node_ids`` that succeeded; None if no worker answered.

    With a ``budget`` (bytes), the outputs are asked for in groups that add
    up to at most that much each (sizes from the status query), since one
    answer is one Temporal payload: many large outputs would not fit one.
    """
    if not node_ids:
        return {}
    groups = [node_ids]
    if budget:
        snap = await snapshot(handle, wait)
        if snap is None:
            return None
        sizes = {node.id: _shown_size(node.output) for node in snap.nodes}
        groups = _groups(node_ids, sizes, budget)
    outputs: dict[str, Any] = {}
    for group in groups:
        try:
            part: dict[str, Any] = await handle.query(
                OUTPUTS_QUERY, group, result_type=dict[str, Any], rpc_timeout=wait
            )
        except (WorkflowQueryFailedError, RPCError):
            return None
        outputs.update(part)
    return outputs


def _shown_size(output: Any) -> int:
    """The size of a node's output from its status entry (a preview says the full size)."""
    if isinstance(output, dict) and output.get("truncated") is True:
        size = output.get("bytes")
        if isinstance(size, int):
            return size
    return 0 if output is None else payload_bytes(output)


def _groups(node_ids: list[str], sizes: dict[str, int], budget: int) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    total = 0
    for node_id in node_ids:
        size = sizes.get(node_id, 0)
        if groups[-1] and total + size > budget:
            groups.append([])
            total = 0
        groups[-1].append(node_id)
        total += size
    return groups


def rerun_trigger(old: RunInput) -> str:
    """The trigger of a rerun of ``old``: ``rerun``, or ``test`` for a test run's.

    A test run's rerun is a test run again, with the same mocks, so it
    neither acts for real nor counts where test runs do not.
    """
    return "test" if old.meta.test is not None else "rerun"


def rerun_input(old: RunInput, reuse: dict[str, Any]) -> RunInput:
    """A fresh run of the same pinned definition and input, taking ``reuse`` as given."""
    return old.model_copy(
        update={
            "meta": old.meta.model_copy(update={"trigger": rerun_trigger(old)}),
            "reuse": reuse,
            "reuse_items": {},
            "carry": None,
        }
    )

"""What a redrive takes of a failed for_each: the outputs of its items that succeeded.

A redriven for_each runs only the items that failed or never ran. The old
run answers the ``item_outputs`` query with what it holds of the node's
items (inline items, and batches that succeeded); each of its batch runs that
failed answers for its own items. The outputs travel in the new run's start
input, one Temporal payload: when they would not fit, no item is reused and
the new run's node says so in its progress.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError

from app.runs.rerun import upstream_of
from interpreter.contract.client import ITEM_OUTPUTS_QUERY
from interpreter.contract.run import (
    ItemOutputs,
    ItemReuse,
    ItemsAsked,
    NodeStatus,
    RunInput,
    RunSnapshot,
)
from interpreter.dsl.definition import Definition
from interpreter.dsl.payloads import payload_bytes

logger = logging.getLogger(__name__)

_ENVELOPE = 1024
"""Bytes kept back for what carries the outputs (indexes, digests) and the run's proof."""

_REDONE = frozenset({NodeStatus.FAILED, NodeStatus.CANCELLED})
"""A for_each that ended so may have items that succeeded."""


def reusable_for_each(definition: Definition, reuse: dict[str, Any]) -> list[str]:
    """Top-level for_each nodes whose items a redrive may reuse.

    Those that run again while everything upstream of them is reused: only
    then do they iterate over the same items with the same inputs.
    """
    return [
        node.id
        for node in definition.nodes
        if node.type == "for_each"
        and node.id not in reuse
        and all(parent in reuse for parent in upstream_of(definition, node.id) or [])
    ]


async def item_reuse(
    client: Client,
    handle: WorkflowHandle[Any, Any],
    run: RunInput,
    snap: RunSnapshot,
    budget: int,
    wait: timedelta,
) -> dict[str, ItemReuse]:
    """The item outputs a redrive of ``handle``'s run starting as ``run`` may carry.

    ``budget`` bounds the whole start input: what ``run`` leaves of it is
    what the outputs may take. A for_each whose items the run no longer holds
    (its worker answered nothing, or it continued as new since) is left out:
    all its items run again.
    """
    statuses = {node.id: node.status for node in snap.nodes}
    room = budget - payload_bytes(run) - _ENVELOPE
    found: dict[str, ItemReuse] = {}
    for node_id in reusable_for_each(run.definition, run.reuse):
        if statuses.get(node_id) not in _REDONE:
            continue
        given = await _node_items(client, handle, node_id, room, wait)
        if given is None:
            continue
        found[node_id] = given
        room -= payload_bytes(given.outputs)
    return found


async def _node_items(
    client: Client, handle: WorkflowHandle[Any, Any], node_id: str, room: int, wait: timedelta
) -> ItemReuse | None:
    held = await _ask(handle, node_id, room, wait)
    if held is None or not held.known:
        return None
    outputs = dict(held.outputs)
    size = held.size
    too_large = held.too_large
    for child_id in held.batches:
        if too_large:
            break
        part = await _ask(client.get_workflow_handle(child_id), node_id, room - size, wait)
        if part is None or not part.known:
            continue  # that batch's items run again
        outputs.update(part.outputs)
        size += part.size
        too_large = part.too_large
    if too_large:
        note = (
            f"the outputs of its items that succeeded are over the {room}-byte room left in "
            "the run's start input (FLOWFORGE_RUN_MAX_PAYLOAD_BYTES): every item runs again"
        )
        logger.warning("redrive of run %s: for_each %s: %s", handle.id, node_id, note)
        return ItemReuse(total=held.total, digest=held.digest, note=note)
    return ItemReuse(total=held.total, digest=held.digest, outputs=outputs)


async def _ask(
    handle: WorkflowHandle[Any, Any], node_id: str, room: int, wait: timedelta
) -> ItemOutputs | None:
    try:
        answer: ItemOutputs = await handle.query(
            ITEM_OUTPUTS_QUERY,
            ItemsAsked(node_id=node_id, budget=max(0, room)),
            result_type=ItemOutputs,
            rpc_timeout=wait,
        )
    except (WorkflowQueryFailedError, RPCError):
        return None
    return answer


def on_definition(
    items: dict[str, ItemReuse], old: Definition, new: Definition, reuse: dict[str, Any]
) -> dict[str, ItemReuse]:
    """``items`` that still apply on definition ``new`` (a redrive on the active version).

    Kept only for a for_each node that is the same in both, with everything
    upstream of it reused on ``new`` too.
    """
    before = {node.id: node for node in old.nodes}
    after = {node.id: node for node in new.nodes}
    allowed = set(reusable_for_each(new, reuse))
    return {
        node_id: given
        for node_id, given in items.items()
        if node_id in allowed and node_id in after and after[node_id] == before.get(node_id)
    }

"""What a run that Temporal ended from outside shows: an error, and no node left running.

A run that times out (its ``timeout``, Temporal's execution timeout) or is
terminated never runs its own code again, so its last report still has nodes
``running``, ``waiting`` or ``pending`` and no error. The API shows those
nodes ``cancelled`` and the run's error as ``RunTimedOut`` or ``RunTerminated``.
"""

from __future__ import annotations

from app.runs.schemas import NodeView, RunSummary
from app.runs.status import is_open
from interpreter.contract import search_attributes as sa
from interpreter.contract.run import SETTLED, NodeError, NodeStatus, RunStatus

_ERRORS = {
    RunStatus.TIMED_OUT: NodeError(
        type="RunTimedOut",
        message="the run did not finish within its timeout, so Temporal ended it; the "
        "nodes still running or waiting were cancelled (raise the definition's `timeout`)",
    ),
    RunStatus.TERMINATED: NodeError(
        type="RunTerminated",
        message="the run was terminated; the nodes still running or waiting were cancelled",
    ),
}


def ended_from_outside(status: RunStatus) -> bool:
    """Whether a run in ``status`` was ended by Temporal rather than by its own code."""
    return status in _ERRORS


def settled_nodes(status: RunStatus, nodes: list[NodeView]) -> list[NodeView]:
    """``nodes``, with those a timed-out or terminated run left unsettled shown cancelled."""
    if not ended_from_outside(status):
        return nodes
    return [
        node
        if node.status in SETTLED
        else node.model_copy(update={"status": NodeStatus.CANCELLED, "next_attempt_at": None})
        for node in nodes
    ]


def ended_error(status: RunStatus, error: NodeError | None) -> NodeError | None:
    """The run's error: its own if it has one, else why Temporal ended it (if it did)."""
    return error if error is not None else _ERRORS.get(status)


_BATCH_NODE = {
    RunStatus.SUCCEEDED: NodeStatus.SUCCEEDED,
    RunStatus.FAILED: NodeStatus.FAILED,
}


def batch_nodes(summary: RunSummary, nodes: list[NodeView]) -> list[NodeView]:
    """A for_each batch's one node, shown with the batch run's status and times.

    A batch runs its loop node's items without booking the node itself, so its
    report leaves the node ``pending``; the node is what the batch run does.
    """
    if summary.trigger != sa.BATCH_TRIGGER:
        return nodes
    if is_open(summary.status):
        status = NodeStatus.RUNNING
    else:
        status = _BATCH_NODE.get(summary.status, NodeStatus.CANCELLED)
    update = {"status": status, "started_at": summary.started_at, "ended_at": summary.ended_at}
    return [
        node.model_copy(update=update) if node.status == NodeStatus.PENDING else node
        for node in nodes
    ]

"""A run's status changes as a sequence of events, for ``GET /runs/{id}/events``.

The stream polls the run's status query and emits an event for every node
whose ``(status, attempts)`` differs from what the stream showed last
(nodes in definition order; a node between attempts is ``retrying``, see
:mod:`app.runs.attempts`), then one for the run when its status or pause
flag changes. A ``log`` node that succeeded also emits a ``log`` event with
the line it wrote, so the stream doubles as the run's log. Every event
carries the node's (or run's) full status, so a
repeated event is harmless and a client only needs the latest per node.

Ids come from the run's own history: ``history_length * 1000 + k`` for the
k-th event of an observation made at that history length. A given state
thus always gets the same ids, and ids grow as the run goes on. A stream
resumed with ``Last-Event-ID`` first replays the current state: when the
history has not grown since that id, it skips the events up to it (exactly
what the client saw); when it has, it sends the whole current state again,
since the states in between are not kept anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from app.runs.schemas import NodeView
from interpreter.contract.run import NodeSnapshot, NodeStatus, RunStatus

IDS_PER_OBSERVATION = 1000
"""Room for every event of one observation (a definition has at most a few hundred nodes)."""


@dataclass(frozen=True)
class RunEvent:
    """One server-sent event of the stream.

    Attributes:
        id: See the module docstring; a client resumes with it as ``Last-Event-ID``.
        kind: ``node`` for a node's change, ``run`` for the run's.
        data: The node's (or the run's) full status, as JSON.
    """

    id: int
    kind: Literal["node", "run", "log"]
    data: dict[str, Any]


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _node_data(node: NodeSnapshot) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if isinstance(node, NodeView):
        extra = {
            "last_error": node.last_error.model_dump(mode="json") if node.last_error else None,
            "next_attempt_at": _time(node.next_attempt_at),
        }
    return {
        "node_id": node.id,
        "type": node.type,
        "status": node.status.value,
        "attempts": node.attempts,
        "started_at": _time(node.started_at),
        "ended_at": _time(node.ended_at),
        "reused": node.reused,
        "error": node.error.model_dump(mode="json") if node.error else None,
        **extra,
    }


_LOG_TYPES = frozenset({"log", "echo"})


def _log_line(run_id: str, node: NodeSnapshot) -> dict[str, Any] | None:
    """The line a ``log`` node wrote, once it has: the run's log, followed with its events."""
    if node.type not in _LOG_TYPES or node.status != NodeStatus.SUCCEEDED:
        return None
    output = node.output if isinstance(node.output, dict) else {}
    return {
        "run_id": run_id,
        "node_id": node.id,
        "message": output.get("message"),
        "at": _time(node.ended_at),
    }


class ChangeTracker:
    """What the stream has shown so far, and the events a new observation adds.

    Args:
        last_seen: The client's ``Last-Event-ID`` (0 for a new stream).
    """

    def __init__(self, run_id: str, last_seen: int = 0) -> None:
        self._run_id = run_id
        self._nodes: dict[str, tuple[NodeStatus, int]] = {}
        # A run starts running and unpaused: that needs no event.
        self._run: tuple[RunStatus, bool] = (RunStatus.RUNNING, False)
        self._last_seen = last_seen
        self._first = True

    def observe(
        self,
        history_length: int,
        nodes: Sequence[NodeSnapshot],
        status: RunStatus,
        paused: bool,
        ended_at: datetime | None,
    ) -> list[RunEvent]:
        """The events between the last observation and this one, made at ``history_length``."""
        changes: list[tuple[Literal["node", "run", "log"], dict[str, Any]]] = []
        for node in nodes:
            state = (node.status, node.attempts)
            before = self._nodes.get(node.id, (NodeStatus.PENDING, 0))
            self._nodes[node.id] = state
            if state != before:
                changes.append(("node", _node_data(node)))
                line = _log_line(self._run_id, node)
                if line is not None:
                    changes.append(("log", line))
        if (status, paused) != self._run:
            self._run = (status, paused)
            data = {
                "run_id": self._run_id,
                "status": status.value,
                "paused": paused,
                "ended_at": _time(ended_at),
            }
            changes.append(("run", data))
        base = history_length * IDS_PER_OBSERVATION
        events = [RunEvent(base + k, kind, data) for k, (kind, data) in enumerate(changes, 1)]
        if self._first:
            self._first = False
            if self._last_seen // IDS_PER_OBSERVATION == history_length:
                events = [event for event in events if event.id > self._last_seen]
        return events

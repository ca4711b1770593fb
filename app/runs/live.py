"""The events of every run a caller may see, for the dashboard's lists.

One poller per API process follows every open run that some connected
subscriber may see, and fans the changes out to all of them: the cost is one
round per ``FLOWFORGE_EVENTS_POLL_INTERVAL`` whatever the number of clients,
and nothing runs while nobody listens. A round is

1. one visibility list of the open runs of the subscribed owners (every
   owner's while an admin listens), at most ``FLOWFORGE_EVENTS_MAX_RUNS``;
2. one ``describe`` per open run (the server's own state: history length
   and pending activities), and the status query only for a run whose history
   grew since the last round, so an idle run costs no worker round trip;
3. one visibility list of the runs closed since the previous round, so a run
   that started and ended between two rounds is still announced.

Changes are found as ``GET /runs/{id}/events`` finds them
(:class:`~app.runs.event_stream.ChangeTracker`), with a node between attempts
shown ``retrying`` (:mod:`app.runs.attempts`). Why polling rather than
PostgreSQL ``LISTEN/NOTIFY``: run state lives in Temporal, and the workflow
cannot write to PostgreSQL without an activity per change, which would grow
every run's history and change its commands. Polling the server's state
leaves the runs untouched.

Events carry a process-wide sequence number as their id. The newest
``FLOWFORGE_EVENTS_REPLAY`` events are kept, so a client reconnecting with
``Last-Event-ID`` gets what it missed if the process still holds it; a client
that cannot keep up (its queue of ``FLOWFORGE_EVENTS_QUEUE_SIZE`` is full)
is disconnected and reconnects the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionDescription

from app.core.state import AppState
from app.runs.attempts import node_counts, pending_attempts, with_attempts
from app.runs.event_stream import ChangeTracker
from app.runs.reading import (
    describe,
    list_runs,
    snapshot,
    summary,
    summary_counts,
    visibility_query,
)
from app.runs.schemas import NodeView
from app.runs.status import run_status
from interpreter.contract import search_attributes as sa
from interpreter.contract.run import RunStatus

logger = logging.getLogger(__name__)

_DESCRIBE_CONCURRENCY = 16
_CLOSED_MARGIN = timedelta(seconds=5)
"""How far back each round's closed-runs list reaches before the previous round."""


@dataclass(frozen=True)
class LiveEvent:
    """One event of the cross-run stream.

    Attributes:
        id: The process-wide sequence number (``Last-Event-ID``).
        kind: ``run`` (a run appeared or its status changed) or ``node``.
        owner_id: Who owns the run (who may see the event, with admins).
        workflow_id: The run's workflow.
        data: The run's summary, or the node's full state with its ``run_id``.
    """

    id: int
    kind: Literal["run", "node"]
    owner_id: str | None
    workflow_id: str | None
    data: dict[str, Any]

    def message(self) -> dict[str, Any]:
        """The event as one WebSocket message."""
        return {"type": self.kind, "id": self.id, "data": self.data}


@dataclass(eq=False)
class Subscriber:
    """One connected client: who it is, what it follows, its queue of events."""

    user_id: str
    admin: bool
    workflow_id: str | None
    queue: asyncio.Queue[LiveEvent]
    overflowed: bool = False

    def wants(self, event: LiveEvent) -> bool:
        """Whether this client may see ``event`` and asked for it."""
        if not self.admin and event.owner_id != self.user_id:
            return False
        return self.workflow_id is None or event.workflow_id == self.workflow_id

    def offer(self, event: LiveEvent) -> None:
        """Queue ``event``; a full queue marks the client too slow (it is then disconnected)."""
        if self.overflowed or not self.wants(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


@dataclass
class _Followed:
    """What the poller knows of one open run."""

    tracker: ChangeTracker
    signature: tuple[Any, ...] = ()
    history_length: int = -1
    nodes: list[Any] = field(default_factory=list)
    status: RunStatus = RunStatus.RUNNING
    paused: bool = False
    suspended_on: str | None = None


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class EventHub:
    """The process's one poller and its subscribers (see the module docstring)."""

    def __init__(self, state: AppState) -> None:
        self._state = state
        self._subscribers: set[Subscriber] = set()
        self._followed: dict[str, _Followed] = {}
        self._closed_seen: dict[str, float] = {}
        self._replay: deque[LiveEvent] = deque(maxlen=state.settings.events_replay)
        self._ids = itertools.count(int(time.time() * 1000) * 1000)
        self._task: asyncio.Task[None] | None = None
        self._baseline = True
        self._last_round: datetime | None = None
        self.rounds = 0
        """Rounds polled since the process started (for tests and metrics)."""

    @contextlib.asynccontextmanager
    async def subscribe(
        self, *, user_id: str, admin: bool, workflow_id: str | None = None, after: int = 0
    ) -> AsyncIterator[Subscriber]:
        """A subscription for the caller; held events newer than ``after`` come first."""
        subscriber = Subscriber(
            user_id=user_id,
            admin=admin,
            workflow_id=workflow_id,
            queue=asyncio.Queue(self._state.settings.events_queue_size),
        )
        if after:
            for event in self._replay:
                if event.id > after:
                    subscriber.offer(event)
        self._subscribers.add(subscriber)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="flowforge-event-hub")
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    async def close(self) -> None:
        """Stop the poller (at shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _poll(self) -> None:
        interval = self._state.settings.events_poll_interval
        while self._subscribers:
            try:
                await self._round()
            except Exception as exc:
                # Temporal away (or any surprise): try again next round; clients stay connected.
                logger.warning("event hub round failed: %s", exc)
            self.rounds += 1
            await asyncio.sleep(interval)
        # Nobody listens: forget the runs, so the next subscriber starts from a fresh baseline.
        self._followed.clear()
        self._closed_seen.clear()
        self._baseline = True
        self._last_round = None

    def _owners_clause(self) -> str | None:
        if any(sub.admin for sub in self._subscribers):
            return None
        # User ids are UUIDs from the database, never free text.
        owners = sorted({sub.user_id for sub in self._subscribers})
        return f"{sa.OWNER.name} IN (" + ", ".join(f"'{owner}'" for owner in owners) + ")"

    async def _round(self) -> None:
        client = await self._state.temporal.client()
        started = datetime.now(UTC)
        base = visibility_query(workflow_id=None, status=None, owner_id=None)
        owners = self._owners_clause()
        if owners:
            base = f"{base} AND {owners}"
        open_runs = await self._list(client, f"{base} AND ExecutionStatus = 'Running'")
        open_ids = {execution.id for execution in open_runs}
        gone = [run_id for run_id in self._followed if run_id not in open_ids]
        semaphore = asyncio.Semaphore(_DESCRIBE_CONCURRENCY)

        async def observe(run_id: str) -> list[LiveEvent]:
            async with semaphore:
                return await self._observe(client, run_id)

        batches = await asyncio.gather(*(observe(run_id) for run_id in [*open_ids, *gone]))
        events = [event for batch in batches for event in batch]
        for run_id in gone:
            # Still open but no longer listed: its owner's clients left (or past the limit).
            self._followed.pop(run_id, None)
        events += await self._closed_unseen(client, base)
        self._last_round = started
        if self._baseline:
            self._baseline = False
            return
        for event in events:
            self._publish(event)

    async def _list(self, client: Client, query: str) -> list[WorkflowExecution]:
        return await list_runs(
            client,
            query,
            limit=self._state.settings.events_max_runs,
            rpc_timeout=self._state.temporal.rpc_timeout,
        )

    async def _observe(self, client: Client, run_id: str) -> list[LiveEvent]:
        """The events of one run since the last round (its state is read only if it moved)."""
        description = await describe(client, run_id, self._state.temporal.rpc_timeout)
        if description is None:  # deleted by retention
            self._followed.pop(run_id, None)
            return []
        followed = self._followed.get(run_id)
        new = followed is None
        if followed is None:
            followed = self._followed[run_id] = _Followed(ChangeTracker(run_id))
        pending = description.raw_description.pending_activities
        signature = (
            description.history_length,
            description.status,
            tuple((a.activity_id, a.attempt, a.state) for a in pending),
        )
        if signature == followed.signature:
            return []
        followed.signature = signature
        if description.history_length != followed.history_length:
            followed.history_length = description.history_length
            await self._read_state(client, description, followed)
        nodes = with_attempts(followed.nodes, await pending_attempts(client, description))
        status = run_status(description.status, followed.status.value)
        changes = followed.tracker.observe(
            description.history_length, nodes, status, followed.paused, description.close_time
        )
        if description.close_time is not None:
            self._followed.pop(run_id, None)
            self._closed_seen[run_id] = time.monotonic()
        owner = description.typed_search_attributes.get(sa.OWNER)
        workflow_id = description.typed_search_attributes.get(sa.WORKFLOW_ID)
        events = [
            self._event("node", owner, workflow_id, {"run_id": run_id, **change.data})
            for change in changes
            if change.kind == "node"
        ]
        if new or any(change.kind == "run" for change in changes):
            data = self._run_data(description, nodes, status, followed)
            events.append(self._event("run", owner, workflow_id, data))
        return events

    async def _read_state(
        self, client: Client, description: WorkflowExecutionDescription, followed: _Followed
    ) -> None:
        handle = client.get_workflow_handle(description.id)
        snap = await snapshot(handle, self._state.temporal.query_timeout)
        if snap is None:
            reported = description.typed_search_attributes.get(sa.STATUS)
            followed.status = run_status(description.status, reported)
            return
        followed.nodes = list(snap.nodes)
        followed.status = snap.status
        followed.paused = snap.paused
        followed.suspended_on = snap.suspended_on

    def _run_data(
        self,
        execution: WorkflowExecution,
        nodes: list[NodeView],
        status: RunStatus,
        followed: _Followed,
    ) -> dict[str, Any]:
        shown = summary(execution, self._state.settings)
        shown.status = status
        shown.node_counts = node_counts(nodes) if nodes else None
        return {
            **shown.model_dump(mode="json", exclude={"temporal"}),
            "paused": followed.paused,
            "suspended_on": followed.suspended_on if status == RunStatus.SUSPENDED else None,
        }

    async def _closed_unseen(self, client: Client, base: str) -> list[LiveEvent]:
        """Runs that closed since the last round and were never followed open."""
        if self._last_round is None:
            return []
        since = (self._last_round - _CLOSED_MARGIN).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        closed = await self._list(
            client, f"{base} AND ExecutionStatus != 'Running' AND CloseTime >= '{since}'"
        )
        events = []
        for execution in closed:
            if execution.id in self._closed_seen or execution.id in self._followed:
                continue
            self._closed_seen[execution.id] = time.monotonic()
            shown = summary(execution, self._state.settings)
            shown.node_counts = await summary_counts(execution)
            data = {**shown.model_dump(mode="json", exclude={"temporal"}), "paused": False}
            data["suspended_on"] = None
            attrs = execution.typed_search_attributes
            events.append(self._event("run", attrs.get(sa.OWNER), attrs.get(sa.WORKFLOW_ID), data))
        self._forget_old_closed()
        return events

    def _forget_old_closed(self) -> None:
        horizon = time.monotonic() - 10 * (
            self._state.settings.events_poll_interval + _CLOSED_MARGIN.total_seconds()
        )
        for run_id in [r for r, at in self._closed_seen.items() if at < horizon]:
            del self._closed_seen[run_id]

    def _event(
        self,
        kind: Literal["run", "node"],
        owner: str | None,
        workflow_id: str | None,
        data: dict[str, Any],
    ) -> LiveEvent:
        return LiveEvent(next(self._ids), kind, owner, workflow_id, data)

    def _publish(self, event: LiveEvent) -> None:
        self._replay.append(event)
        for subscriber in list(self._subscribers):
            subscriber.offer(event)

    @property
    def subscribers(self) -> Iterable[Subscriber]:
        """The clients connected now."""
        return tuple(self._subscribers)

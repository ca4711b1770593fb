"""A run's live status changes as Server-Sent Events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header
from sse_starlette import EventSourceResponse, ServerSentEvent
from temporalio.client import Client

from app.api.deps import CurrentUser, RunId, StateDep, TemporalDep
from app.core.state import AppState
from app.runs.access import visible_run
from app.runs.attempts import pending_attempts, with_attempts
from app.runs.event_stream import ChangeTracker
from app.runs.reading import describe, snapshot
from app.runs.status import is_open, run_status
from interpreter.contract import search_attributes as sa

router = APIRouter(tags=["runs"])

_PING_SECONDS = 15


async def _events(
    client: Client, state: AppState, run_id: str, after: int
) -> AsyncIterator[ServerSentEvent]:
    tracker = ChangeTracker(run_id, after)
    handle = client.get_workflow_handle(run_id)
    # Streams end now and then (clients reconnect with Last-Event-ID), so that
    # no connection is held for a run's whole life.
    deadline = time.monotonic() + state.settings.run_events_max_seconds
    while True:
        description = await describe(client, run_id, state.temporal.rpc_timeout)
        if description is None:  # deleted by retention while being followed
            return
        snap = await snapshot(handle, state.temporal.query_timeout)
        reported = snap.status.value if snap else description.typed_search_attributes.get(sa.STATUS)
        status = run_status(description.status, reported)
        nodes = (
            with_attempts(snap.nodes, await pending_attempts(client, description)) if snap else []
        )
        changes = tracker.observe(
            description.history_length,
            nodes,
            status,
            bool(snap and snap.paused),
            description.close_time,
        )
        for event in changes:
            yield ServerSentEvent(data=json.dumps(event.data), event=event.kind, id=str(event.id))
        if not is_open(status) or time.monotonic() > deadline:
            return
        await asyncio.sleep(state.settings.run_events_poll_interval)


@router.get(
    "/runs/{run_id}/events",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The event stream"}},
)
async def follow_run(
    run_id: RunId,
    user: CurrentUser,
    state: StateDep,
    temporal: TemporalDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> EventSourceResponse:
    """Follow the run as server-sent events, until it ends.

    ``event: node`` for every node status change and ``event: run`` for the
    run's. The stream also ends once ``FLOWFORGE_RUN_EVENTS_MAX_SECONDS`` pass:
    reconnect then. Reconnect with ``Last-Event-ID`` to skip what was seen.
    """
    await visible_run(temporal, state, run_id, user)
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    return EventSourceResponse(_events(temporal, state, run_id, after), ping=_PING_SECONDS)

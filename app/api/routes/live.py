"""Every run's events for the caller, across runs: Server-Sent Events and a WebSocket.

Both read the process's one :class:`~app.runs.live.EventHub`; see
:mod:`app.runs.live` for how events are found. The WebSocket takes its
credential in its first message (``{"token": "..."}``) or as the subprotocol
``bearer.<token>`` offered next to ``flowforge.v1``, never in its URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, cast

from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import ASGIApp

from app.api.deps import CurrentUser, StateDep, user_for_credential
from app.core.state import AppState
from app.db.models.api_key import Scope
from app.db.models.user import Role, User
from app.errors import ApiError
from app.runs.live import EventHub, Subscriber

router = APIRouter(tags=["runs"])

_PING_SECONDS = 15
SUBPROTOCOL = "flowforge.v1"
"""The subprotocol ``WS /ws`` speaks; ``bearer.<token>`` next to it carries a credential."""
_BEARER = "bearer."
# Close codes: the 4000 range is the application's (RFC 6455, section 7.4.2).
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4408
CLOSE_BAD_MESSAGE = 4400


def hub_of(app: ASGIApp) -> EventHub:
    """The process's event hub, built at startup."""
    return cast(EventHub, cast(Any, app).state.flowforge_events)


WorkflowFilter = Annotated[uuid.UUID | None, Query(description="Only the runs of this workflow.")]


async def _events(subscriber: Subscriber, max_seconds: float) -> AsyncIterator[ServerSentEvent]:
    deadline = time.monotonic() + max_seconds
    while not subscriber.overflowed:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            event = await asyncio.wait_for(subscriber.queue.get(), timeout=remaining)
        except TimeoutError:
            return
        yield ServerSentEvent(data=json.dumps(event.data), event=event.kind, id=str(event.id))


async def _subscribed(
    hub: EventHub, user: User, workflow_id: uuid.UUID | None, after: int, max_seconds: float
) -> AsyncIterator[ServerSentEvent]:
    async with hub.subscribe(
        user_id=str(user.id),
        admin=user.role == Role.ADMIN,
        workflow_id=str(workflow_id) if workflow_id else None,
        after=after,
    ) as subscriber:
        async for event in _events(subscriber, max_seconds):
            yield event


@router.get(
    "/events/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The event stream"}},
)
async def follow_runs(
    request: Request,
    user: CurrentUser,
    state: StateDep,
    workflow_id: WorkflowFilter = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> EventSourceResponse:
    """Follow every run the caller may see (an admin: every run), as server-sent events.

    ``event: run`` when a run starts or its status changes (its summary with
    ``node_counts``, ``paused`` and ``suspended_on``) and ``event: node`` for
    every node status change (with its ``run_id``). Only changes from the time
    of connecting are sent; reconnect with ``Last-Event-ID`` for those missed
    (while the process still holds them). The stream ends after
    ``FLOWFORGE_RUN_EVENTS_MAX_SECONDS``, or when the client falls behind.
    """
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    stream = _subscribed(
        hub_of(request.app), user, workflow_id, after, state.settings.run_events_max_seconds
    )
    return EventSourceResponse(stream, ping=_PING_SECONDS)


class _Hello(BaseModel):
    """The first message of a WebSocket client that offered no ``bearer.`` subprotocol."""

    token: str
    workflow_id: uuid.UUID | None = None
    last_event_id: int = 0


async def _authenticate(websocket: WebSocket, state: AppState, token: str) -> User | None:
    async with state.sessions() as session:
        try:
            return await user_for_credential(state, session, token, scope=Scope.READ)
        except ApiError as error:
            code = CLOSE_FORBIDDEN if error.status_code == 403 else CLOSE_UNAUTHORIZED
            await websocket.close(code=code, reason=str(error.detail)[:120])
            return None


def _offered_token(websocket: WebSocket) -> tuple[str | None, bool]:
    """The ``bearer.`` subprotocol's token, and whether ``flowforge.v1`` was offered."""
    offered = websocket.scope.get("subprotocols") or []
    token = next((p[len(_BEARER) :] for p in offered if p.startswith(_BEARER)), None)
    return token or None, SUBPROTOCOL in offered


@router.websocket("/ws")
async def websocket_events(
    websocket: WebSocket,
    workflow_id: WorkflowFilter = None,
) -> None:
    """The events of ``GET /events/stream`` over a WebSocket (see docs/API.md)."""
    state = cast(AppState, websocket.app.state.flowforge)
    token, speaks = _offered_token(websocket)
    await websocket.accept(subprotocol=SUBPROTOCOL if speaks else None)
    after = 0
    if token is None:
        try:
            raw = await asyncio.wait_for(
                websocket.receive_text(), timeout=state.settings.ws_auth_timeout
            )
            hello = _Hello.model_validate_json(raw)
        except TimeoutError:
            await websocket.close(code=CLOSE_UNAUTHORIZED, reason="no token sent in time")
            return
        except ValidationError:
            await websocket.close(
                code=CLOSE_BAD_MESSAGE, reason='the first message must be {"token": "..."}'
            )
            return
        except WebSocketDisconnect:
            return
        token, after = hello.token, hello.last_event_id
        workflow_id = hello.workflow_id or workflow_id
    user = await _authenticate(websocket, state, token)
    if user is None:
        return
    await websocket.send_json({"type": "ready", "user_id": str(user.id)})
    async with hub_of(websocket.app).subscribe(
        user_id=str(user.id),
        admin=user.role == Role.ADMIN,
        workflow_id=str(workflow_id) if workflow_id else None,
        after=after,
    ) as subscriber:
        await _pump(websocket, subscriber)


async def _pump(websocket: WebSocket, subscriber: Subscriber) -> None:
    """Send events until the client leaves or falls behind; incoming messages are ignored."""

    async def drain_incoming() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return

    listener = asyncio.create_task(drain_incoming())
    try:
        while not listener.done():
            getter = asyncio.create_task(subscriber.queue.get())
            done, _ = await asyncio.wait(
                {getter, listener}, timeout=_PING_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                if not done:
                    await websocket.send_json({"type": "ping"})
                continue
            if subscriber.overflowed:
                await websocket.close(code=CLOSE_TOO_SLOW, reason="too far behind: reconnect")
                return
            await websocket.send_json(getter.result().message())
    except WebSocketDisconnect:
        return
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await listener

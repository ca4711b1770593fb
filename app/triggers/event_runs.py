"""One event, one run of every workflow that listens for it: ``POST /events`` and NATS alike.

Both ways start runs through :func:`app.runs.launch.launch_run` with an
idempotency key, so sending the same event again (the same ``Idempotency-Key``,
or a redelivered NATS message) answers the runs the first one started.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from app.core.state import AppState
from app.db.crud.event_targets import workflows_for_event
from app.errors import ApiError
from app.runs.launch import IdempotencyKeyReused, WorkflowPaused, launch_run


class EventRun(BaseModel):
    """A run the event started (for a repeated key: the run the first send started)."""

    run_id: str
    workflow_id: str
    version: int


class EventSkip(BaseModel):
    """A workflow the event matched but could not start.

    Attributes:
        detail: Why, e.g. the payload breaks the workflow's ``input_schema``.
    """

    workflow_id: str
    detail: str


class EventAccepted(BaseModel):
    """What an event did: the runs it started, and the matching workflows it could not start."""

    runs: list[EventRun]
    skipped: list[EventSkip] = Field(default_factory=list)


async def start_event_runs(
    *,
    client: Client,
    session: AsyncSession,
    state: AppState,
    payload: Any,
    idempotency_key: str | None,
    owner_id: uuid.UUID | None,
    event_type: str | None = None,
    subject: str | None = None,
) -> tuple[EventAccepted, bool]:
    """Start a run of every live workflow whose trigger names ``event_type`` (or ``subject``).

    A workflow that is paused, or whose ``input_schema`` the payload breaks,
    is listed in ``skipped``; the others still start.

    Returns:
        What the event did, and whether any run is new (False when a repeated
        key found them all).

    Raises:
        IdempotencyKeyReused: the key already started runs with another payload.
        ApiError: a start failed otherwise (429 past a quota, Temporal away).
    """
    workflows = await workflows_for_event(
        session=session, event_type=event_type, subject=subject, owner_id=owner_id
    )
    accepted = EventAccepted(runs=[])
    created = False
    for workflow in workflows:
        try:
            launched = await launch_run(
                client=client,
                session=session,
                state=state,
                workflow=workflow,
                version=None,
                run_input=payload,
                idempotency_key=idempotency_key,
                trigger="event",
            )
        except IdempotencyKeyReused:
            raise
        except WorkflowPaused as exc:
            accepted.skipped.append(EventSkip(workflow_id=str(workflow.id), detail=exc.detail))
            continue
        except ApiError as exc:
            if exc.status_code != 422:  # the payload does not fit this workflow
                raise
            accepted.skipped.append(EventSkip(workflow_id=str(workflow.id), detail=exc.detail))
            continue
        created = created or launched.started.created
        accepted.runs.append(
            EventRun(
                run_id=launched.started.run_id,
                workflow_id=str(workflow.id),
                version=launched.version,
            )
        )
    return accepted, created

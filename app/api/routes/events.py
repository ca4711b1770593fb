"""Events: one run of every workflow that declares an ``event`` trigger of the event's type."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import EditorUser, SessionDep, StateDep, TemporalDep, idempotency_key
from app.db.crud.event_targets import workflows_for_event
from app.db.models.user import Role
from app.errors import ApiError
from app.runs.launch import IdempotencyKeyReused, WorkflowPaused, launch_run

router = APIRouter(tags=["events"])

EventKey = Annotated[
    str | None,
    idempotency_key(
        "Send an event safely again: the same key starts nothing new and "
        "answers 200 with the runs the first send started.",
        alias="Idempotency-Key",
    ),
]


class EventIn(BaseModel):
    """An event. ``payload`` is the input of every run it starts."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(pattern=r"^[A-Za-z0-9_.:/-]{1,200}$")
    payload: Any = Field(default_factory=dict)


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


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": EventAccepted, "description": "The runs this key started before"}},
)
async def send_event(
    body: EventIn,
    user: EditorUser,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    response: Response,
    idempotency_key: EventKey = None,
) -> EventAccepted:
    """Start a run of every workflow that listens for the event's type, with its payload as input.

    A workflow listens when its active definition has the trigger
    ``{"type": "event", "event": <type>}``. Only the caller's live workflows
    count; an admin's event reaches everyone's.
    """
    workflows = await workflows_for_event(
        session=session,
        event_type=body.type,
        owner_id=None if user.role == Role.ADMIN else user.id,
    )
    accepted = EventAccepted(runs=[])
    created = False
    for workflow in workflows:
        try:
            launched = await launch_run(
                client=temporal,
                session=session,
                state=state,
                workflow=workflow,
                version=None,
                run_input=body.payload,
                # Prefixed: the same key sent to POST /workflows/{id}/runs is another start.
                idempotency_key=f"event:{idempotency_key}" if idempotency_key else None,
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
    if idempotency_key and accepted.runs and not created:
        response.status_code = status.HTTP_200_OK
    return accepted

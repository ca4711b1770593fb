"""Events: one run of every workflow that declares an ``event`` trigger of the event's type."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import EditorUser, SessionDep, StateDep, TemporalDep, idempotency_key
from app.db.models.user import Role
from app.triggers.event_runs import EventAccepted, start_event_runs

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
    accepted, created = await start_event_runs(
        client=temporal,
        session=session,
        state=state,
        payload=body.payload,
        # Prefixed: the same key sent to POST /workflows/{id}/runs is another start.
        idempotency_key=f"event:{idempotency_key}" if idempotency_key else None,
        owner_id=None if user.role == Role.ADMIN else user.id,
        event_type=body.type,
    )
    if idempotency_key and accepted.runs and not created:
        response.status_code = status.HTTP_200_OK
    return accepted

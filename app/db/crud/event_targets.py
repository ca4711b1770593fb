"""Which workflows an event starts: live ones whose active definition has an ``event`` trigger."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import and_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models.workflow import Workflow, WorkflowVersion


async def workflows_for_event(
    *,
    session: AsyncSession,
    event_type: str | None = None,
    subject: str | None = None,
    owner_id: uuid.UUID | None,
) -> Sequence[Workflow]:
    """Live workflows whose active version declares the event trigger, oldest first.

    The trigger is ``{"type": "event", "event": event_type}`` (a ``POST /events``)
    or ``{"type": "event", "subject": subject}`` (a NATS message); the workflows
    are ``owner_id``'s, or everyone's if None.
    """
    wanted: dict[str, str] = {"type": "event"}
    if event_type is not None:
        wanted["event"] = event_type
    if subject is not None:
        wanted["subject"] = subject
    if len(wanted) == 1:
        raise ValueError("give the event type or the subject the trigger names")
    trigger = [wanted]
    active = and_(
        col(WorkflowVersion.workflow_id) == col(Workflow.id),
        col(WorkflowVersion.version) == col(Workflow.active_version),
    )
    statement = (
        select(Workflow)
        .join(WorkflowVersion, active)
        .where(col(Workflow.deleted_at).is_(None))
        # JSONB containment (@>): a trigger with more keys still matches.
        .where(col(WorkflowVersion.definition)["triggers"].contains(trigger))
        .order_by(col(Workflow.created_at), col(Workflow.id))
    )
    if owner_id is not None:
        statement = statement.where(Workflow.owner_id == owner_id)
    result = await session.exec(statement)
    return result.all()

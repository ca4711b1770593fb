"""Workflow templates: the built-in ones (no owner) and users' own."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.pages import Position, newest_first
from app.db.models.template import WorkflowTemplate


async def create_template(*, session: AsyncSession, template: WorkflowTemplate) -> WorkflowTemplate:
    session.add(template)
    await session.commit()
    await session.refresh(template)
    return template


async def get_template(*, session: AsyncSession, template_id: uuid.UUID) -> WorkflowTemplate | None:
    return await session.get(WorkflowTemplate, template_id)


async def list_templates(
    *, session: AsyncSession, owner_id: uuid.UUID | None, limit: int, after: Position | None
) -> Sequence[WorkflowTemplate]:
    """Up to ``limit`` templates newest first: the built-in ones and ``owner_id``'s
    (everyone's if None)."""
    statement = select(WorkflowTemplate)
    if owner_id is not None:
        statement = statement.where(
            or_(
                col(WorkflowTemplate.owner_id).is_(None), col(WorkflowTemplate.owner_id) == owner_id
            )
        )
    result = await session.exec(newest_first(statement, WorkflowTemplate, after).limit(limit))
    return result.all()


async def delete_template(*, session: AsyncSession, template: WorkflowTemplate) -> None:
    await session.delete(template)
    await session.commit()

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
    """Insert ``template`` and return it as stored."""
    session.add(template)
    await session.commit()
    await session.refresh(template)
    return template


async def get_template(*, session: AsyncSession, template_id: uuid.UUID) -> WorkflowTemplate | None:
    """The template ``template_id``, built in or anyone's; None if there is none."""
    return await session.get(WorkflowTemplate, template_id)


async def list_templates(
    *, session: AsyncSession, owner_id: uuid.UUID | None, limit: int, after: Position | None
) -> Sequence[WorkflowTemplate]:
    """Up to ``limit`` templates newest first: built-in ones and ``owner_id``'s (all if None)."""
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
    """Delete ``template``; workflows made from it keep their definitions."""
    await session.delete(template)
    await session.commit()

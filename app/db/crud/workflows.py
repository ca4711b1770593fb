"""Workflows and their versions.

A workflow row is mutable bookkeeping (name, newest and active version,
deletion); every definition lives in an immutable ``workflow_versions`` row.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.pages import Position, contains, newest_first
from app.db.errors import AlreadyExists
from app.db.models.common import utcnow
from app.db.models.user import User
from app.db.models.workflow import Workflow, WorkflowStatus, WorkflowVersion
from interpreter.dsl.definition import Definition
from interpreter.run_proof import canonical_json


def content_hash(definition: dict[str, Any]) -> str:
    """sha256 of the definition's canonical JSON (sorted keys, no whitespace)."""
    return hashlib.sha256(canonical_json(definition)).hexdigest()


def _name_taken(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"you already have a workflow named {name!r}: change the definition's name, "
        "or update that workflow with PUT /workflows/{id}"
    )


def _new_version(workflow: Workflow, raw: dict[str, Any], user: User) -> WorkflowVersion:
    return WorkflowVersion(
        workflow_id=workflow.id,
        version=workflow.version,
        definition=raw,
        content_hash=content_hash(raw),
        created_by=user.id,
    )


async def _commit_named(session: AsyncSession, name: str) -> None:
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise _name_taken(name) from None


async def create_workflow(
    *, session: AsyncSession, owner: User, definition: Definition, raw: dict[str, Any]
) -> Workflow:
    """Insert a workflow with ``raw`` (already validated as ``definition``) as version 1.

    Raises:
        AlreadyExists: the owner has a live workflow with this name.
    """
    workflow = Workflow(name=definition.name, description=definition.description, owner_id=owner.id)
    session.add(workflow)
    session.add(_new_version(workflow, raw, owner))
    await _commit_named(session, definition.name)
    await session.refresh(workflow)
    return workflow


async def get_workflow(*, session: AsyncSession, workflow_id: uuid.UUID) -> Workflow | None:
    """A live (not deleted) workflow."""
    workflow = await session.get(Workflow, workflow_id)
    return workflow if workflow is not None and workflow.deleted_at is None else None


async def list_workflows(
    *,
    session: AsyncSession,
    owner_id: uuid.UUID | None,
    limit: int,
    after: Position | None,
    tags: Sequence[str] = (),
    q: str | None = None,
    status: WorkflowStatus | None = None,
) -> Sequence[Workflow]:
    """Up to ``limit`` live workflows newest first, of one owner or (None) of everyone.

    With ``tags``, those that carry every one; with ``q``, those whose name or
    description contains it; with ``status``, those in it.
    """
    statement = select(Workflow).where(col(Workflow.deleted_at).is_(None))
    if owner_id is not None:
        statement = statement.where(Workflow.owner_id == owner_id)
    if tags:
        statement = statement.where(col(Workflow.tags).contains(list(tags)))
    if q:
        statement = statement.where(
            or_(contains(Workflow.name, q), contains(Workflow.description, q))
        )
    if status is not None:
        statement = statement.where(Workflow.status == status)
    result = await session.exec(newest_first(statement, Workflow, after).limit(limit))
    return result.all()


async def get_version(
    *, session: AsyncSession, workflow_id: uuid.UUID, version: int
) -> WorkflowVersion | None:
    """Version ``version`` of workflow ``workflow_id``, deleted or not; None if there is none."""
    return await session.get(WorkflowVersion, (workflow_id, version))


async def list_versions(
    *, session: AsyncSession, workflow_id: uuid.UUID, limit: int, below: int | None
) -> Sequence[WorkflowVersion]:
    """Up to ``limit`` versions newest first, those numbered below ``below`` if given."""
    statement = select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id)
    if below is not None:
        statement = statement.where(WorkflowVersion.version < below)
    statement = statement.order_by(col(WorkflowVersion.version).desc()).limit(limit)
    result = await session.exec(statement)
    return result.all()


async def _locked(session: AsyncSession, workflow: Workflow) -> Workflow:
    # Row lock: two concurrent updates must not both take version n + 1.
    result = await session.exec(
        select(Workflow)
        .where(Workflow.id == workflow.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.one()


async def add_version(
    *,
    session: AsyncSession,
    workflow: Workflow,
    definition: Definition,
    raw: dict[str, Any],
    user: User,
    activate: bool,
) -> Workflow:
    """Store ``raw`` as the next version (and make it active if ``activate``).

    A definition identical to the newest version adds nothing, so a repeated
    PUT is harmless; with ``activate`` it still makes that version active.

    Raises:
        AlreadyExists: the new name is taken by another of the owner's workflows.
    """
    workflow = await _locked(session, workflow)
    newest = await get_version(session=session, workflow_id=workflow.id, version=workflow.version)
    if newest is None or newest.content_hash != content_hash(raw):
        workflow.version += 1
        session.add(_new_version(workflow, raw, user))
        workflow.name = definition.name
        workflow.description = definition.description
    if activate:
        workflow.active_version = workflow.version
    workflow.updated_at = utcnow()
    session.add(workflow)
    await _commit_named(session, definition.name)
    await session.refresh(workflow)
    return workflow


async def activate_version(*, session: AsyncSession, workflow: Workflow, version: int) -> Workflow:
    """Make an existing ``version`` the one new runs use.

    Activating a rollout's candidate by hand promotes it: the rollout ends.
    """
    workflow.active_version = version
    if workflow.rollout_candidate == version:
        workflow.rollout_candidate = workflow.rollout_percent = None
        workflow.rollout_sticky_by = None
        workflow.rollout_started_at = None
    workflow.updated_at = utcnow()
    session.add(workflow)
    await session.commit()
    await session.refresh(workflow)
    return workflow


async def delete_workflow(*, session: AsyncSession, workflow: Workflow) -> None:
    """Soft delete: hide the workflow and free its name; versions stay for running runs."""
    workflow.deleted_at = utcnow()
    session.add(workflow)
    await session.commit()


async def patch_workflow(
    *, session: AsyncSession, workflow: Workflow, changes: dict[str, Any]
) -> Workflow:
    """Set ``changes`` (fields of :class:`WorkflowPatch` given by the caller); commits."""
    for name, value in changes.items():
        setattr(workflow, name, value)
    workflow.updated_at = utcnow()
    session.add(workflow)
    await session.commit()
    await session.refresh(workflow)
    return workflow

"""Workflows (named, owned, soft-deletable) and their immutable versions."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import StringConstraints
from sqlalchemy import Column, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp


class DefinitionIn(SQLModel):
    """A request body carrying one workflow definition (see DSL.md)."""

    definition: dict[str, Any]


class WorkflowCreate(DefinitionIn):
    """A new workflow: its definition becomes version 1."""


class WorkflowUpdate(DefinitionIn):
    """A workflow's next version; a definition equal to the newest one adds none."""


class WorkflowStatus(StrEnum):
    """``active``: starts as usual; ``paused``: no trigger and no API call starts a run."""

    ACTIVE = "active"
    PAUSED = "paused"


Tag = Annotated[
    str, StringConstraints(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
]
MAX_TAGS = 20


class WorkflowBase(SQLModel):
    """What every form of a workflow has: its name and description."""

    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=4000)


class WorkflowPatch(SQLModel):
    """What ``PATCH /workflows/{id}`` changes; fields left out stay as they are.

    Attributes:
        status: ``paused`` stops every way a run starts (API starts answer 409,
            schedules pause, hooks answer 423, events skip it); ``active`` restores
            exactly what pausing turned off.
        tags: The whole new list of tags (``[]`` clears them).
        description: Shown in lists; the next version's definition sets its own.
        category: A free grouping label; null clears it.
    """

    status: WorkflowStatus | None = None
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)
    description: str | None = Field(default=None, max_length=4000)
    category: str | None = Field(default=None, max_length=100)


class Workflow(WorkflowBase, table=True):
    """A workflow. ``name`` and ``description`` mirror the newest version's definition.

    Attributes:
        version: The newest version number (versions are 1, 2, ...).
        active_version: The version new runs use unless they ask for another.
        deleted_at: Set by a (soft) delete; deleted workflows are invisible and
            their names free, while their versions stay for runs in flight.
    """

    __tablename__ = "workflows"
    __table_args__ = (
        Index(
            "uq_workflows_owner_name_live",
            "owner_id",
            "name",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_workflows_owner_created", "owner_id", "created_at"),
        Index("ix_workflows_tags", "tags", postgresql_using="gin"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="users.id", ondelete="RESTRICT")
    version: int = Field(default=1, ge=1)
    active_version: int = Field(default=1, ge=1)
    status: WorkflowStatus = Field(
        default=WorkflowStatus.ACTIVE, sa_column=Column(String(16), nullable=False)
    )
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    category: str | None = Field(default=None, max_length=100)
    # A rollout: this share of new runs on the active version goes to the candidate.
    rollout_candidate: int | None = Field(default=None, ge=1)
    rollout_percent: int | None = Field(default=None, ge=0, le=100)
    rollout_sticky_by: str | None = Field(default=None, max_length=1000)
    rollout_started_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    deleted_at: datetime | None = timestamp(nullable=True)


class WorkflowPublic(WorkflowBase):
    """A workflow as the API shows it, without a definition.

    Attributes:
        version: The newest version number.
        active_version: The version new runs use unless they ask for another.
    """

    id: uuid.UUID
    owner_id: uuid.UUID
    version: int
    active_version: int
    status: WorkflowStatus = WorkflowStatus.ACTIVE
    tags: list[str] = Field(default_factory=list)
    category: str | None = None
    created_at: datetime
    updated_at: datetime


class WorkflowSaved(WorkflowPublic):
    """The answer to a ``PUT``: the workflow, and what the save changed.

    Attributes:
        new_version: False when the definition equals the newest version, which
            then stays the newest (nothing was stored).
        renamed_from: The workflow's name before, when the definition renamed it.
    """

    new_version: bool
    renamed_from: str | None = None


class WorkflowDetail(WorkflowPublic):
    """A workflow with its active version's definition."""

    definition: dict[str, Any]


class WorkflowVersionBase(SQLModel):
    """What every form of a workflow version has.

    Attributes:
        content_hash: The sha256 of the definition's canonical JSON.
        created_by: The id of the user who saved the version.
    """

    workflow_id: uuid.UUID
    version: int
    content_hash: str = Field(max_length=64)
    created_by: uuid.UUID
    created_at: datetime


class WorkflowVersion(WorkflowVersionBase, table=True):
    """One immutable definition of a workflow; a database trigger refuses UPDATE.

    ``content_hash`` is the sha256 of the definition's canonical JSON.
    """

    __tablename__ = "workflow_versions"

    workflow_id: uuid.UUID = Field(foreign_key="workflows.id", ondelete="CASCADE", primary_key=True)
    version: int = Field(primary_key=True, ge=1)
    definition: dict[str, Any] = Field(sa_type=JSONB)
    created_by: uuid.UUID = Field(foreign_key="users.id", ondelete="RESTRICT")
    created_at: datetime = timestamp()


class WorkflowVersionPublic(WorkflowVersionBase):
    """A workflow version as the API shows it, without its definition.

    Attributes:
        active: New runs of the workflow use this version.
    """

    active: bool


class WorkflowVersionDetail(WorkflowVersionPublic):
    """A workflow version with its definition."""

    definition: dict[str, Any]

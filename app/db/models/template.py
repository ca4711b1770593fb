"""Workflow templates: definitions with ``${param.NAME}`` placeholders, made into workflows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as Attribute
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp

PARAMETER_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"


class TemplateParameter(BaseModel):
    """A value the template asks for when it is instantiated.

    Attributes:
        default: Used when the caller gives no value (and the parameter is not required).
        required: The caller must give a value; ``default`` is then ignored.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Attribute(pattern=PARAMETER_NAME_PATTERN)
    description: str = Attribute(default="", max_length=1000)
    default: Any = None
    required: bool = False


class TemplateBase(SQLModel):
    """What every form of a template has: its name and description."""

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)


class WorkflowTemplate(TemplateBase, table=True):
    """A template. ``owner_id`` is None for the built-in ones, which everyone sees.

    Attributes:
        definition: A definition whose strings may hold ``${param.NAME}`` placeholders.
        parameters: :class:`TemplateParameter` objects, as JSON.
    """

    __tablename__ = "workflow_templates"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    definition: dict[str, Any] = Field(sa_type=JSONB)
    parameters: list[dict[str, Any]] = Field(sa_type=JSONB)
    owner_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="CASCADE", index=True
    )
    created_at: datetime = timestamp()


class TemplateSummary(TemplateBase):
    """A template without its definition.

    Attributes:
        owner_id: None for a built-in template.
        builtin: A built-in template is visible to everyone and cannot be deleted.
    """

    id: uuid.UUID
    owner_id: uuid.UUID | None
    builtin: bool
    parameters: list[TemplateParameter]
    created_at: datetime


class TemplateDetail(TemplateSummary):
    """A template with its definition, ``${param.NAME}`` placeholders as saved."""

    definition: dict[str, Any]


class TemplateCreate(TemplateBase):
    """Save a definition, or a workflow's version (its active one by default), as a template.

    Exactly one of ``definition`` and ``workflow_id`` is given.
    """

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    definition: dict[str, Any] | None = None
    workflow_id: uuid.UUID | None = None
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    parameters: list[TemplateParameter] = Field(default_factory=list, max_length=100)


class TemplateInstantiate(BaseModel):
    """Make a workflow from a template.

    Attributes:
        name: The new workflow's name (replaces the definition's).
        parameters: A value for each parameter; those left out take their default.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Attribute(min_length=1, max_length=200)
    parameters: dict[str, Any] = Attribute(default_factory=dict)

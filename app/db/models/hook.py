"""Inbound webhooks: a URL that starts a run of one workflow when called with a valid signature."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp


class WebhookHook(SQLModel, table=True):
    """One inbound webhook of a workflow.

    Attributes:
        id: The hook id, the last segment of its URL.
        secret: The HMAC key callers sign with, sealed (see ``app.triggers.hook_secrets``):
            it must be recoverable to check signatures, so it cannot be a hash.
        enabled: A disabled hook answers 409 and starts nothing.
    """

    __tablename__ = "webhook_hooks"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workflow_id: uuid.UUID = Field(foreign_key="workflows.id", ondelete="CASCADE", index=True)
    owner_id: uuid.UUID = Field(foreign_key="users.id", ondelete="RESTRICT", index=True)
    secret: str = Field(max_length=512)
    enabled: bool = True
    created_at: datetime = timestamp()


class HookPublic(SQLModel):
    """A hook as its owner sees it (never with its secret)."""

    hook_id: uuid.UUID
    workflow_id: uuid.UUID
    owner_id: uuid.UUID
    url: str
    enabled: bool
    created_at: datetime


class HookCreated(HookPublic):
    """The answer to a hook creation: the only time ``secret`` is shown."""

    secret: str


class HookUpdate(SQLModel):
    """A change to a webhook: enable or disable it."""

    enabled: bool

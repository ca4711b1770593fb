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
        require_timestamp: Calls must carry a fresh, signed ``X-Timestamp``; False
            (an explicit choice at creation) also accepts the legacy signature of
            the body alone, which never goes stale.
    """

    __tablename__ = "webhook_hooks"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    workflow_id: uuid.UUID = Field(foreign_key="workflows.id", ondelete="CASCADE", index=True)
    owner_id: uuid.UUID = Field(foreign_key="users.id", ondelete="RESTRICT", index=True)
    secret: str = Field(max_length=512)
    enabled: bool = True
    require_timestamp: bool = True
    created_at: datetime = timestamp()


class WebhookHookReplay(SQLModel, table=True):
    """A signature a hook accepted, remembered until it would be refused as stale.

    A replay of the same signed call within the clock-skew window answers with
    the run the first one started; the memory lives in PostgreSQL so every API
    process sees it. Expired rows are deleted as new deliveries arrive.

    Attributes:
        hook_id: The hook the call was signed for.
        digest: SHA-256 of the ``X-Signature`` value (see
            ``app.triggers.hook_signature.signature_digest``).
        run_id: The run the call started; None while it is being started.
        expires_at: After this a replay is stale anyway (or, for a hook without
            timestamps, may start a new run).
    """

    __tablename__ = "webhook_hook_replays"

    hook_id: uuid.UUID = Field(foreign_key="webhook_hooks.id", ondelete="CASCADE", primary_key=True)
    digest: str = Field(max_length=64, primary_key=True)
    run_id: str | None = Field(default=None, max_length=200)
    expires_at: datetime = timestamp(index=True)


class HookPublic(SQLModel):
    """A hook as its owner sees it (never with its secret)."""

    hook_id: uuid.UUID
    workflow_id: uuid.UUID
    owner_id: uuid.UUID
    url: str
    enabled: bool
    require_timestamp: bool
    created_at: datetime


class HookCreated(HookPublic):
    """The answer to a hook creation: the only time ``secret`` is shown."""

    secret: str


class HookCreate(SQLModel):
    """Options of a new webhook (the body of its creation is optional)."""

    require_timestamp: bool = Field(
        default=True,
        description=(
            "False accepts calls signed without X-Timestamp (the body alone): such a "
            "signature never goes stale, so a captured call can be replayed once the "
            "replay window has passed. Only for senders that cannot sign a timestamp."
        ),
    )


class HookUpdate(SQLModel):
    """A change to a webhook: enable or disable it, or change whether it requires timestamps."""

    enabled: bool | None = None
    require_timestamp: bool | None = None

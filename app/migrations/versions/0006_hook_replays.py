"""Inbound webhook replay protection: required timestamps and a memory of accepted signatures.

Hooks that exist before this revision become ``require_timestamp = true``:
accepting an unstamped signature forever was the hole this closes, so their
senders must now sign ``v1:<timestamp>:<idempotency key>:<body>`` (or their
owner opts out explicitly with ``PATCH /webhooks/{id}``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "webhook_hooks",
        sa.Column("require_timestamp", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    # The default only filled the existing rows; the model sets it for new ones.
    op.alter_column("webhook_hooks", "require_timestamp", server_default=None)
    op.create_table(
        "webhook_hook_replays",
        sa.Column("hook_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(200), nullable=True),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("hook_id", "digest"),
        sa.ForeignKeyConstraint(["hook_id"], ["webhook_hooks.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_webhook_hook_replays_expires_at", "webhook_hook_replays", ["expires_at"])


def downgrade() -> None:
    op.drop_table("webhook_hook_replays")
    op.drop_column("webhook_hooks", "require_timestamp")

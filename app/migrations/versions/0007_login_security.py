"""Login security: failed-login counters, revoked tokens, API key scopes and expiry.

API keys get scopes (existing keys all three, as they could do everything)
and an optional expiry. Users get ``tokens_valid_after`` (access tokens issued
before it are revoked); ``revoked_tokens`` keeps the ids of tokens logged out
until they expire.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", _TZ, nullable=True),
        sa.Column("updated", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
        sa.CheckConstraint("kind IN ('username', 'address')", name="ck_login_attempts_kind"),
    )
    op.create_index("ix_login_attempts_updated", "login_attempts", ["updated"])
    op.add_column("users", sa.Column("tokens_valid_after", _TZ, nullable=True))
    op.create_table(
        "revoked_tokens",
        sa.Column("token_id", sa.String(64), nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("token_id"),
    )
    op.create_index("ix_revoked_tokens_expires_at", "revoked_tokens", ["expires_at"])
    op.add_column(
        "api_keys",
        sa.Column(
            "scopes",
            postgresql.ARRAY(sa.String(16)),
            nullable=False,
            server_default="{read,run,manage}",
        ),
    )
    # The default only filled the existing rows; the model sets it for new ones.
    op.alter_column("api_keys", "scopes", server_default=None)
    op.add_column("api_keys", sa.Column("expires_at", _TZ, nullable=True))


def downgrade() -> None:
    op.drop_column("api_keys", "expires_at")
    op.drop_column("api_keys", "scopes")
    op.drop_table("revoked_tokens")
    op.drop_column("users", "tokens_valid_after")
    op.drop_table("login_attempts")

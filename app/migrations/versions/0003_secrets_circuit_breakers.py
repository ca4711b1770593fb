"""Secrets (sealed values per owner) and circuit breakers (state per service).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "secrets",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("owner_id", "name", name="uq_secrets_owner_name"),
    )
    # Workers insert breaker rows with plain SQL, naming only what differs
    # from these defaults.
    op.create_table(
        "circuit_breakers",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("service", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), server_default="closed", nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("opened_at", _TZ, nullable=True),
        sa.Column("half_open_calls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failure_threshold", sa.Integer(), server_default="5", nullable=False),
        sa.Column("reset_timeout", sa.Float(), server_default="30.0", nullable=False),
        sa.Column("half_open_max_calls", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", _TZ, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service"),
        sa.CheckConstraint(
            "state IN ('closed', 'open', 'half_open')", name="ck_circuit_breakers_state"
        ),
    )


def downgrade() -> None:
    op.drop_table("circuit_breakers")
    op.drop_table("secrets")

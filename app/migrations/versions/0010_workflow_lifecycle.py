"""Workflows can be paused, and carry tags and a category.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "workflows", sa.Column("status", sa.String(16), nullable=False, server_default="active")
    )
    op.add_column(
        "workflows",
        sa.Column("tags", JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.add_column("workflows", sa.Column("category", sa.String(100), nullable=True))
    op.create_check_constraint("ck_workflows_status", "workflows", "status IN ('active', 'paused')")
    op.create_index("ix_workflows_tags", "workflows", ["tags"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_workflows_tags", table_name="workflows")
    op.drop_constraint("ck_workflows_status", "workflows")
    op.drop_column("workflows", "category")
    op.drop_column("workflows", "tags")
    op.drop_column("workflows", "status")

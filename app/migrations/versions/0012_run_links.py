"""Which run a rerun redoes, and the failed runs an operator dismissed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("rerun_of", sa.String(200), nullable=True))
    op.create_index("ix_runs_rerun_of", "runs", ["rerun_of"])
    op.create_table(
        "run_dismissals",
        sa.Column("run_id", sa.String(200), nullable=False),
        sa.Column("dismissed_by", sa.Uuid(), nullable=True),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dismissed_by"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("run_id"),
    )


def downgrade() -> None:
    op.drop_table("run_dismissals")
    op.drop_index("ix_runs_rerun_of", table_name="runs")
    op.drop_column("runs", "rerun_of")

"""Rollouts: a candidate version taking a share of a workflow's new runs.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workflows", sa.Column("rollout_candidate", sa.Integer(), nullable=True))
    op.add_column("workflows", sa.Column("rollout_percent", sa.Integer(), nullable=True))
    op.add_column("workflows", sa.Column("rollout_sticky_by", sa.String(1000), nullable=True))
    op.add_column(
        "workflows", sa.Column("rollout_started_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("runs", sa.Column("arm", sa.String(20), nullable=True))


def downgrade() -> None:
    op.drop_column("runs", "arm")
    for column in ("rollout_started_at", "rollout_sticky_by", "rollout_percent"):
        op.drop_column("workflows", column)
    op.drop_column("workflows", "rollout_candidate")

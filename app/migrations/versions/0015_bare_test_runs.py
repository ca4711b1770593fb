"""Test runs of a bare definition: a run's index row may name no workflow.

A test of a definition that was never saved (``POST /workflows/test`` with
``definition`` and no ``workflow_id``) belongs to its starter and to no workflow.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("runs", "workflow_id", existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    # Rows of bare test runs name no workflow: they cannot stay under a NOT NULL column.
    op.execute("DELETE FROM runs WHERE workflow_id IS NULL")
    op.alter_column("runs", "workflow_id", existing_type=sa.Uuid(), nullable=False)

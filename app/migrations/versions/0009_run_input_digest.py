"""Runs remember a digest of their input, so an idempotency key cannot be reused with another.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("input_digest", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("runs", "input_digest")

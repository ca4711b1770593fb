"""Circuit breakers per owner: an ``owner`` column and the key ``(service, owner)``.

Rows that exist before this revision have no owner, so they become shared
breakers (``shared:NAME``) that only admins manage and that no node uses
until one names it so; an admin's configs survive, and calls of every user
count on new per-owner rows from then on.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("circuit_breakers", sa.Column("owner", sa.String(200), nullable=True))
    op.alter_column(
        "circuit_breakers",
        "service",
        existing_type=sa.String(255),
        type_=sa.String(300),
        existing_nullable=False,
    )
    op.drop_constraint("circuit_breakers_service_key", "circuit_breakers", type_="unique")
    op.create_unique_constraint(
        "uq_circuit_breakers_service_owner",
        "circuit_breakers",
        ["service", "owner"],
        postgresql_nulls_not_distinct=True,
    )


def downgrade() -> None:
    # Only the shared rows fit the old one-row-per-service key.
    op.execute("DELETE FROM circuit_breakers WHERE owner IS NOT NULL")
    op.drop_constraint("uq_circuit_breakers_service_owner", "circuit_breakers", type_="unique")
    op.create_unique_constraint("circuit_breakers_service_key", "circuit_breakers", ["service"])
    op.execute("DELETE FROM circuit_breakers WHERE length(service) > 255")
    op.alter_column(
        "circuit_breakers",
        "service",
        existing_type=sa.String(300),
        type_=sa.String(255),
        existing_nullable=False,
    )
    op.drop_column("circuit_breakers", "owner")

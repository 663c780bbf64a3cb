"""Fenced leases (lost leases counted, claim time) and the installation's own key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the lease columns and create the one-row ``installation`` table with a fresh key."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lost_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    installation = op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_installation"),
    )
    op.bulk_insert(installation, [{"id": 1, "key": uuid.uuid4().hex}])


def downgrade() -> None:
    """Drop the installation table and the lease columns."""
    op.drop_table("installation")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("lost_count")

"""Create file_write_logs (every file a report wrote) and schedule_runs (one row per period).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Create the two tables; the unique (schedule, period) pair fires each period once."""
    op.create_table(
        "file_write_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filepath", sa.String(length=4096), nullable=False),
        sa.Column("file_type", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_file_write_logs"),
    )
    op.create_index("ix_file_write_logs_filepath", "file_write_logs", ["filepath"])
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.String(length=255), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        _timestamp("due_at"),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("export_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["data_exports.id"],
            name="fk_schedule_runs_export_id_data_exports",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_runs"),
        sa.UniqueConstraint("schedule", "period", name="uq_schedule_runs_schedule_period"),
    )
    op.create_index("ix_schedule_runs_export_id", "schedule_runs", ["export_id"])


def downgrade() -> None:
    """Drop the two tables."""
    op.drop_table("schedule_runs")
    op.drop_table("file_write_logs")

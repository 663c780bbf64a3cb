"""Create data_exports, jobs and alerts.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Types spelled out here, not imported from the models, so this revision never changes.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ACTIVE_PER_EXPORT = sa.text("status IN ('queued', 'running') AND export_id IS NOT NULL")


def _timestamp(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _created_updated() -> list[sa.Column[object]]:
    return [_timestamp("created_at", nullable=False), _timestamp("updated_at", nullable=False)]


def _export_fk(table: str, *, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["export_id"],
        ["data_exports.id"],
        name=f"fk_{table}_export_id_data_exports",
        ondelete=ondelete,
    )


def upgrade() -> None:
    """Create the three tables and their indexes."""
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("export_key", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("data", JSON, nullable=False),
        _timestamp("started_exporting_at"),
        _timestamp("finished_exporting_at"),
        _timestamp("failed_at"),
        sa.Column("deposition_id", sa.BigInteger(), nullable=True),
        sa.Column("bucket_url", sa.String(length=2048), nullable=True),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("doi", sa.String(length=255), nullable=True),
        sa.Column("concept_rec_id", sa.String(length=64), nullable=True),
        sa.Column("concept_doi", sa.String(length=255), nullable=True),
        sa.Column("uploads", JSON, nullable=False),
        sa.Column("remote_deposition", JSON, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        *_created_updated(),
        sa.PrimaryKeyConstraint("id", name="pk_data_exports"),
        sa.UniqueConstraint("export_key", name="uq_data_exports_export_key"),
    )
    op.create_index("ix_data_exports_type_name", "data_exports", ["type", "name"])

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("run_at", nullable=False),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        _timestamp("lease_expires_at"),
        sa.Column("locked_by", sa.String(length=255), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("finished_at"),
        *_created_updated(),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="ck_jobs_status"
        ),
        _export_fk("jobs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_export_id", "jobs", ["export_id"])
    op.create_index("ix_jobs_status_run_at", "jobs", ["status", "run_at"])
    op.create_index(
        "uq_jobs_active_kind_export_id",
        "jobs",
        ["kind", "export_id"],
        unique=True,
        sqlite_where=ACTIVE_PER_EXPORT,
        postgresql_where=ACTIVE_PER_EXPORT,
    )

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("class_name", sa.String(length=255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("backtrace", sa.Text(), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=True),
        sa.Column("export_id", sa.Integer(), nullable=True),
        _timestamp("created_at", nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        _timestamp("resolved_at"),
        sa.CheckConstraint(
            "level IN ('DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL')", name="ck_alerts_level"
        ),
        _export_fk("alerts", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("uuid", name="uq_alerts_uuid"),
    )
    op.create_index("ix_alerts_export_id", "alerts", ["export_id"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("alerts")
    op.drop_table("jobs")
    op.drop_table("data_exports")

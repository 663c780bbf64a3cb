"""Indexes for the numbers ``/metrics`` and the overview read on every scrape.

* ``ix_data_exports_state``: an export's state is derived from its three timestamps; counting
  by state, and the failures since a time, read this index alone, not the rows (``data`` and
  the deposition make the rows wide).
* ``ix_data_exports_published``: the newest published export of each type and name, read from
  the index alone (partial: only published exports are in it).
* ``ix_jobs_kind_status``: jobs counted by kind and status from the index alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHED = sa.text("failed_at IS NULL AND finished_exporting_at IS NOT NULL")


def upgrade() -> None:
    """Create the three indexes."""
    op.create_index(
        "ix_data_exports_state",
        "data_exports",
        ["failed_at", "finished_exporting_at", "started_exporting_at"],
    )
    op.create_index(
        "ix_data_exports_published",
        "data_exports",
        ["type", "name", "finished_exporting_at", "id"],
        sqlite_where=PUBLISHED,
        postgresql_where=PUBLISHED,
    )
    op.create_index("ix_jobs_kind_status", "jobs", ["kind", "status"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_jobs_kind_status", table_name="jobs")
    op.drop_index("ix_data_exports_published", table_name="data_exports")
    op.drop_index("ix_data_exports_state", table_name="data_exports")

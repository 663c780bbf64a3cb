"""The numbers the overview page and ``/metrics`` both show, read from the database now.

Each is one aggregate query, so a scrape or an overview costs a handful of index scans whatever
the table sizes, and every ``serve`` process reports the same truth.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Integer, String, and_, column, func, select, text
from sqlalchemy.orm import Session

from zenodo_export.clock import utcnow
from zenodo_export.jobs.presence import count_alive
from zenodo_export.store.models import EXPORT_STATES, Alert, DataExport, Job
from zenodo_export.store.types import UTCDateTime

PUBLISHED = and_(DataExport.failed_at.is_(None), DataExport.finished_exporting_at.is_not(None))
"""SQL: the export is done (published), as ``DataExport.state`` says, in indexable form."""


@dataclass(frozen=True)
class LastSuccess:
    """The newest published export of one name."""

    type: str
    name: str
    export_id: int
    finished_at: dt.datetime


@dataclass(frozen=True)
class Waiting:
    """The job that has waited longest for a worker (ready since ``since``)."""

    job_id: int
    kind: str
    export_id: int | None
    since: dt.datetime

    def seconds(self, now: dt.datetime | None = None) -> float:
        """How long it has waited."""
        return max(0.0, ((now or utcnow()) - self.since).total_seconds())


def exports_by_state(session: Session) -> dict[str, int]:
    """Count the exports in each state (every state present, zero included).

    ``done`` is what the others leave of the total: each count is a narrow range of
    ``ix_data_exports_state`` (failed, unfinished) or the whole index counted once, never the
    state's CASE computed for every row.
    """
    total = int(session.scalar(select(func.count()).select_from(DataExport)) or 0)
    failed = session.scalar(
        select(func.count()).select_from(DataExport).where(DataExport.failed_at.is_not(None))
    )
    started = DataExport.started_exporting_at.is_not(None).label("started")
    unfinished = session.execute(
        select(started, func.count())
        .where(DataExport.failed_at.is_(None), DataExport.finished_exporting_at.is_(None))
        .group_by(started)
    ).all()
    counts: dict[str, int] = dict.fromkeys(EXPORT_STATES, 0)
    counts["failed"] = int(failed or 0)
    for is_started, n in unfinished:
        counts["processing" if is_started else "pending"] = int(n)
    counts["done"] = total - counts["failed"] - counts["processing"] - counts["pending"]
    return counts


def failures_since(session: Session, since: dt.datetime) -> int:
    """Count the exports that failed at or after ``since``."""
    statement = select(func.count(DataExport.id)).where(DataExport.failed_at >= since)
    return int(session.scalar(statement) or 0)


def jobs_by_kind_and_status(session: Session) -> dict[tuple[str, str], int]:
    """Count the jobs of each kind in each status."""
    statement = select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)
    return {(kind, status): int(n) for kind, status, n in session.execute(statement).all()}


def ready_jobs(session: Session, now: dt.datetime | None = None) -> int:
    """Count the queued jobs whose time has come (waiting for a free worker)."""
    statement = select(func.count(Job.id)).where(
        Job.status == "queued", Job.run_at <= (now or utcnow())
    )
    return int(session.scalar(statement) or 0)


def oldest_waiting(session: Session, now: dt.datetime | None = None) -> Waiting | None:
    """The queued job ready the longest, if any."""
    statement = (
        select(Job.id, Job.kind, Job.export_id, Job.run_at)
        .where(Job.status == "queued", Job.run_at <= (now or utcnow()))
        .order_by(Job.run_at, Job.id)
        .limit(1)
    )
    row = session.execute(statement).first()
    return None if row is None else Waiting(*row)


def unresolved_alerts(session: Session) -> int:
    """Count the alerts nobody has resolved."""
    statement = select(func.count(Alert.id)).where(Alert.resolved.is_(False))
    return int(session.scalar(statement) or 0)


def workers_alive(session: Session) -> int:
    """Count the workers heard from lately that have not stopped."""
    return count_alive(session)


LAST_SUCCESSES_POSTGRESQL = text(
    """
    WITH RECURSIVE pairs AS (
      (SELECT type, name FROM data_exports
       WHERE failed_at IS NULL AND finished_exporting_at IS NOT NULL
       ORDER BY type, name LIMIT 1)
      UNION ALL
      SELECT next.type, next.name FROM pairs CROSS JOIN LATERAL (
        SELECT type, name FROM data_exports
        WHERE failed_at IS NULL AND finished_exporting_at IS NOT NULL
          AND (type, name) > (pairs.type, pairs.name)
        ORDER BY type, name LIMIT 1) AS next
    )
    SELECT pairs.type, pairs.name, last.id, last.finished_exporting_at AS at
    FROM pairs CROSS JOIN LATERAL (
      SELECT id, finished_exporting_at FROM data_exports
      WHERE type = pairs.type AND name = pairs.name
        AND failed_at IS NULL AND finished_exporting_at IS NOT NULL
      ORDER BY finished_exporting_at DESC, id DESC LIMIT 1) AS last
    ORDER BY at DESC LIMIT :limit
    """
).columns(
    column("type", String), column("name", String), column("id", Integer),
    column("at", UTCDateTime()),
)  # fmt: skip
"""PostgreSQL: skip from one name to the next down ``ix_data_exports_published`` and take each
name's newest there (a few index probes per name, not every published row)."""


def last_successes(session: Session, *, limit: int = 1000) -> list[LastSuccess]:
    """The newest published export of each name, most recent first."""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(LAST_SUCCESSES_POSTGRESQL, {"limit": limit}).all()
        return [LastSuccess(*row) for row in rows]
    newest = (
        select(
            DataExport.type, DataExport.name, func.max(DataExport.finished_exporting_at).label("at")
        )
        .where(PUBLISHED)  # the partial index ix_data_exports_published holds these alone
        .group_by(DataExport.type, DataExport.name)
        .subquery()
    )
    statement = (
        select(DataExport.type, DataExport.name, func.max(DataExport.id), newest.c.at)
        .join(
            newest,
            (DataExport.type == newest.c.type)
            & (DataExport.name == newest.c.name)
            & (DataExport.finished_exporting_at == newest.c.at),
        )
        .where(PUBLISHED)
        .group_by(DataExport.type, DataExport.name, newest.c.at)
        .order_by(newest.c.at.desc())
        .limit(limit)
    )
    return [LastSuccess(*row) for row in session.execute(statement).all()]

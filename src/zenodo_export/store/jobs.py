"""The durable job queue: rows in ``jobs``, claimed by workers with a lease.

The database is the source of truth. A worker claims the oldest ready job and holds it for
``lease_seconds``, extending the lease with ``heartbeat`` while it works; a job whose lease ran
out (its worker was killed) is ready again. Every call that finishes or gives back a job acts
only while the caller's lease token is still the job's, and says whether it did: a worker that
lost its lease can never clobber the new owner.

``enqueue`` and ``DataExportJob.perform_later`` run in the caller's transaction, so an export
and its job are created together or not at all; the claim calls take the ``Store`` and run in
their own short transactions. ``now`` can be given everywhere, for tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zenodo_export.store.db import Store
from zenodo_export.store.exports import get_export
from zenodo_export.store.models import ACTIVE_JOB_STATUSES, Job, JobStatus, new_key
from zenodo_export.store.types import utcnow

_UNSYNCED = {"synchronize_session": False}
_NO_LEASE = {"lease_token": None, "lease_expires_at": None}


@dataclass(frozen=True)
class ClaimedJob:
    """A job as its worker sees it while holding the lease."""

    id: int
    kind: str
    export_id: int | None
    payload: Mapping[str, Any]
    attempts: int
    lease_token: str
    lease_expires_at: dt.datetime


def lease_expiry(now: dt.datetime, lease_seconds: float) -> dt.datetime:
    """Return when a lease taken or renewed at ``now`` runs out."""
    return now + dt.timedelta(seconds=lease_seconds)


def ready_clause(
    now: dt.datetime, kinds: Collection[str] | None = None, export_id: int | None = None
) -> ColumnElement[bool]:
    """Say in SQL which jobs a worker may claim at ``now``: due, or abandoned by their worker."""
    due = and_(Job.status == "queued", Job.run_at <= now)
    abandoned = and_(Job.status == "running", Job.lease_expires_at < now)
    ready = or_(due, abandoned)
    if kinds is not None:
        ready = and_(ready, Job.kind.in_(list(kinds)))
    if export_id is not None:
        ready = and_(ready, Job.export_id == export_id)
    return ready


def earliest(*moments: dt.datetime | None) -> dt.datetime | None:
    """Return the earliest of the given moments, ignoring None."""
    known = [moment for moment in moments if moment is not None]
    return min(known) if known else None


def _active_job(session: Session, kind: str, export_id: int) -> Job | None:
    statement = select(Job).where(
        Job.kind == kind, Job.export_id == export_id, Job.status.in_(ACTIVE_JOB_STATUSES)
    )
    return session.scalars(statement).first()


def enqueue(
    session: Session,
    kind: str,
    *,
    export_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
    run_at: dt.datetime | None = None,
    queue: str = "default",
) -> Job:
    """Queue a job in the caller's transaction; return the active one if the export has one."""
    if export_id is not None and (existing := _active_job(session, kind, export_id)):
        return existing
    job = Job(
        kind=kind,
        export_id=export_id,
        payload=dict(payload or {}),
        queue=queue,
        status="queued",
        attempts=0,
        run_at=run_at or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        # Another transaction queued the same job between our look and our insert.
        existing = _active_job(session, kind, export_id) if export_id is not None else None
        if existing is None:
            raise
        return existing
    return job


def enqueue_once(session: Session, kind: str, *, run_at: dt.datetime | None = None) -> Job:
    """Queue a job of ``kind`` that has no export, unless one is already queued or running."""
    statement = select(Job).where(
        Job.kind == kind, Job.export_id.is_(None), Job.status.in_(ACTIVE_JOB_STATUSES)
    )
    existing = session.scalars(statement).first()
    return existing if existing is not None else enqueue(session, kind, run_at=run_at)


class DataExportJob:
    """The job that archives one export (the seed's ``DataExportJob``)."""

    KIND = "data_export"

    @classmethod
    def perform_later(cls, session: Session, *, id: int) -> Job:
        """Queue the export's job in the caller's transaction; ``NotFound`` without the export."""
        get_export(session, id)
        return enqueue(session, cls.KIND, export_id=id)


def claim(
    store: Store,
    *,
    worker_id: str,
    lease_seconds: float,
    kinds: Collection[str] | None = None,
    export_id: int | None = None,
    now: dt.datetime | None = None,
) -> ClaimedJob | None:
    """Take the oldest ready job with a fresh lease, or return None when none is ready.

    ``kinds`` and ``export_id`` narrow the choice (``export --wait`` runs only its own job).

    One statement: ``UPDATE ... WHERE id = (SELECT ... LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING ...``; SQLite has no row locks, and its ``BEGIN IMMEDIATE`` makes the update
    atomic among processes.
    """
    now = now or utcnow()
    candidate = (
        select(Job.id)
        .where(ready_clause(now, kinds, export_id))
        .order_by(Job.run_at, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(Job)
        .where(Job.id == candidate)
        .values(
            status="running",
            lease_token=new_key(),
            lease_expires_at=lease_expiry(now, lease_seconds),
            locked_by=worker_id,
            attempts=Job.attempts + 1,
        )
        .returning(
            Job.id,
            Job.kind,
            Job.export_id,
            Job.payload,
            Job.attempts,
            Job.lease_token,
            Job.lease_expires_at,
        )
    )
    with store.transaction() as session:
        row = session.execute(statement, execution_options=_UNSYNCED).one_or_none()
    if row is None:
        return None
    return ClaimedJob(
        id=row.id,
        kind=row.kind,
        export_id=row.export_id,
        payload=dict(row.payload),
        attempts=row.attempts,
        lease_token=row.lease_token,
        lease_expires_at=row.lease_expires_at,
    )


def _while_leased(store: Store, job: ClaimedJob, **values: Any) -> bool:
    statement = (
        update(Job)
        .where(Job.id == job.id, Job.lease_token == job.lease_token, Job.status == "running")
        .values(**values)
        .returning(Job.id)
    )
    with store.transaction() as session:
        changed = session.execute(statement, execution_options=_UNSYNCED).first()
    return changed is not None


def _ended(status: JobStatus, now: dt.datetime | None) -> dict[str, Any]:
    return {"status": status, "finished_at": now or utcnow(), **_NO_LEASE}


def _requeued(run_at: dt.datetime, *, give_attempt_back: bool) -> dict[str, Any]:
    attempts = Job.attempts - 1 if give_attempt_back else Job.attempts
    return {
        "status": "queued",
        "run_at": run_at,
        "attempts": attempts,
        "locked_by": None,
        **_NO_LEASE,
    }


def heartbeat(
    store: Store, job: ClaimedJob, *, lease_seconds: float, now: dt.datetime | None = None
) -> bool:
    """Extend the lease; False when it was lost to another worker."""
    expires = lease_expiry(now or utcnow(), lease_seconds)
    return _while_leased(store, job, lease_expires_at=expires)


def complete(store: Store, job: ClaimedJob, *, now: dt.datetime | None = None) -> bool:
    """Mark the job done; False when the lease was lost."""
    return _while_leased(store, job, **_ended("done", now))


def fail(store: Store, job: ClaimedJob, error: str, *, now: dt.datetime | None = None) -> bool:
    """Mark the job failed for good with ``error``; False when the lease was lost."""
    return _while_leased(store, job, last_error=error, **_ended("failed", now))


def retry_at(
    store: Store,
    job: ClaimedJob,
    run_at: dt.datetime,
    *,
    error: str,
    count_attempt: bool = True,
) -> bool:
    """Queue the job again for ``run_at``; ``count_attempt=False`` gives the attempt back."""
    values = _requeued(run_at, give_attempt_back=not count_attempt)
    return _while_leased(store, job, last_error=error, **values)


def release(store: Store, job: ClaimedJob, *, now: dt.datetime | None = None) -> bool:
    """Give the job back to the queue at once, attempt returned (a worker shutting down)."""
    return _while_leased(store, job, **_requeued(now or utcnow(), give_attempt_back=True))


def active_job_for_export(session: Session, export_id: int) -> Job | None:
    """Return the newest queued or running job of the export, if any."""
    statement = (
        select(Job)
        .where(Job.export_id == export_id, Job.status.in_(ACTIVE_JOB_STATUSES))
        .order_by(Job.id.desc())
    )
    return session.scalars(statement).first()


def list_jobs(session: Session, *, status: JobStatus | None = None, limit: int = 100) -> list[Job]:
    """Return jobs newest first, optionally only those with ``status``."""
    statement = select(Job)
    if status is not None:
        statement = statement.where(Job.status == status)
    return list(session.scalars(statement.order_by(Job.id.desc()).limit(limit)).all())


def next_run_at(session: Session) -> dt.datetime | None:
    """Return when the next job becomes claimable (due, or its lease runs out), if ever."""
    queued = session.scalar(select(func.min(Job.run_at)).where(Job.status == "queued"))
    leased = session.scalar(select(func.min(Job.lease_expires_at)).where(Job.status == "running"))
    return earliest(queued, leased)


def ready_count(session: Session, now: dt.datetime | None = None) -> int:
    """Count the jobs a worker could claim at ``now``."""
    statement = select(func.count(Job.id)).where(ready_clause(now or utcnow()))
    return int(session.scalar(statement) or 0)

"""The durable job queue: rows in ``jobs``, claimed by workers with a fenced lease.

The database is the source of truth, and its clock is the only one leases are measured by
(``store.types.db_time``). A worker claims the oldest ready job and holds it for ``lease_seconds``
under a fresh token, extending the lease with ``heartbeat`` while it works. Every write that
finishes or gives back a job, and every write of the job's export state (``hold``), acts only
while the caller's token is still the job's, in the same transaction: a worker that lost its
lease can never clobber the new holder.

A job whose lease ran out (its worker was killed) is ready again; claiming it counts one more
lost lease, and the attempt its lost worker used stays used. Once such a job has used all its
attempts, the next claim hands it over ``exhausted`` so that the runner fails it for good
(Sidekiq Pro's super_fetch does the same with jobs that kill their process).

``enqueue`` runs in the caller's transaction, so an export and its job are created together or
not at all; on PostgreSQL it also sends ``NOTIFY`` so that idle workers wake at once.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zenodo_export.errors import LeaseLost
from zenodo_export.store.db import Store
from zenodo_export.store.models import ACTIVE_JOB_STATUSES, Job, JobStatus, new_key
from zenodo_export.store.types import db_time

NOTIFY_CHANNEL = "zenodo_export_jobs"
"""The PostgreSQL channel ``enqueue`` notifies and idle workers listen on."""

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
    lost_count: int = 0
    exhausted: str | None = None
    """Set when the job's workers were lost as often as it may run: why it fails now."""


DEFAULT_QUEUE = "default"
"""The queue any worker takes jobs from."""


def host_queue(host: str | None = None) -> str:
    """Return the queue of jobs only a worker on ``host`` (default: this machine) may take."""
    return f"host:{host or socket.gethostname()}"[:64]


def local_queues() -> tuple[str, ...]:
    """Return the queues a worker of this machine takes jobs from unless told otherwise."""
    return (DEFAULT_QUEUE, host_queue())


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def ready_clause(
    now: ColumnElement[dt.datetime],
    kinds: Collection[str] | None = None,
    export_id: int | None = None,
    queues: Collection[str] | None = None,
) -> ColumnElement[bool]:
    """Say in SQL which jobs a worker may claim at ``now``: due, or abandoned by their worker."""
    due = and_(Job.status == "queued", Job.run_at <= now)
    abandoned = and_(Job.status == "running", Job.lease_expires_at < now)
    ready = or_(due, abandoned)
    if queues is not None:
        ready = and_(ready, Job.queue.in_(list(queues)))
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


def notify(session: Session) -> None:
    """Wake idle workers when the caller's transaction commits (PostgreSQL only)."""
    if _dialect(session) == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})


def enqueue(
    session: Session,
    kind: str,
    *,
    export_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
    run_at: dt.datetime | None = None,
    queue: str = "default",
) -> Job:
    """Queue a job in the caller's transaction; return the active one if the export has one.

    Without ``run_at`` the job is due at once by the database's clock.
    """
    if export_id is not None and (existing := _active_job(session, kind, export_id)):
        return existing
    job = Job(
        kind=kind,
        export_id=export_id,
        payload=dict(payload or {}),
        queue=queue,
        status="queued",
        attempts=0,
        run_at=run_at if run_at is not None else db_time(_dialect(session)),
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
    notify(session)
    return job


def enqueue_once(session: Session, kind: str, *, run_at: dt.datetime | None = None) -> Job:
    """Queue a job of ``kind`` that has no export, unless one is already queued or running."""
    statement = select(Job).where(
        Job.kind == kind, Job.export_id.is_(None), Job.status.in_(ACTIVE_JOB_STATUSES)
    )
    existing = session.scalars(statement).first()
    return existing if existing is not None else enqueue(session, kind, run_at=run_at)


def exhausted_message(job: Job, lost: int) -> str:
    """Say why a job whose workers kept dying fails now (host and time of the last loss)."""
    host = (job.locked_by or "an unknown worker").split(":", 1)[0]
    when = job.lease_expires_at.isoformat() if job.lease_expires_at else "an unknown time"
    return (
        f"the worker running this job was lost {lost} time(s) (killed or out of memory?); "
        f"last on host {host} ({job.locked_by}), whose lease ran out at {when}"
    )


def _claim_values(
    job: Job, dialect: str, lease_seconds: float, max_attempts: int
) -> dict[str, Any]:
    abandoned = job.status == "running"
    values: dict[str, Any] = {
        "status": "running",
        "lease_token": new_key(),
        "lease_expires_at": db_time(dialect, plus=lease_seconds),
        "claimed_at": db_time(dialect),
    }
    if abandoned:
        values["lost_count"] = Job.lost_count + 1
    if not (abandoned and job.attempts >= max_attempts):
        values["attempts"] = Job.attempts + 1
    return values


def claim(
    store: Store,
    *,
    worker_id: str,
    lease_seconds: float,
    max_attempts: int,
    kinds: Collection[str] | None = None,
    export_id: int | None = None,
    queues: Collection[str] | None = None,
) -> ClaimedJob | None:
    """Take the oldest ready job with a fresh lease, or return None when none is ready.

    ``kinds``, ``export_id`` and ``queues`` narrow the choice (``export --wait`` runs only its
    own job; a worker takes the default queue and its own host's).
    PostgreSQL picks the row with ``FOR UPDATE SKIP LOCKED``; SQLite has no row locks, and its
    ``BEGIN IMMEDIATE`` makes the look and the update atomic among processes.
    """
    with store.transaction() as session:
        dialect = _dialect(session)
        candidate = session.scalars(
            select(Job)
            .where(ready_clause(db_time(dialect), kinds, export_id, queues))
            .order_by(Job.run_at, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if candidate is None:
            return None
        lost = candidate.lost_count + 1 if candidate.status == "running" else candidate.lost_count
        exhausted = candidate.status == "running" and candidate.attempts >= max_attempts
        reason = exhausted_message(candidate, lost) if exhausted else None
        row = session.execute(
            update(Job)
            .where(Job.id == candidate.id)
            .values(
                locked_by=worker_id,
                **_claim_values(candidate, dialect, lease_seconds, max_attempts),
            )
            .returning(
                Job.id,
                Job.kind,
                Job.export_id,
                Job.payload,
                Job.attempts,
                Job.lease_token,
                Job.lease_expires_at,
                Job.lost_count,
            ),
            execution_options=_UNSYNCED,
        ).one()
        session.expunge(candidate)
    return ClaimedJob(
        id=row.id,
        kind=row.kind,
        export_id=row.export_id,
        payload=dict(row.payload),
        attempts=row.attempts,
        lease_token=row.lease_token,
        lease_expires_at=row.lease_expires_at,
        lost_count=row.lost_count,
        exhausted=reason,
    )


def _leased(job: ClaimedJob) -> ColumnElement[bool]:
    return and_(Job.id == job.id, Job.lease_token == job.lease_token, Job.status == "running")


def hold(session: Session, job: ClaimedJob) -> None:
    """Check in the caller's transaction that ``job`` is still ours, and keep it until commit.

    Raises ``LeaseLost`` otherwise. The no-op update locks the row on PostgreSQL (a claim skips
    it until commit); SQLite's ``BEGIN IMMEDIATE`` already holds the only write lock.
    """
    statement = (
        update(Job)
        .where(_leased(job), Job.lease_expires_at > db_time(_dialect(session)))
        .values(lease_token=Job.lease_token)
        .returning(Job.id)
    )
    if session.execute(statement, execution_options=_UNSYNCED).first() is None:
        raise LeaseLost(f"job {job.id}: the lease ran out or another worker holds it now")


def _while_leased(store: Store, job: ClaimedJob, **values: Any) -> bool:
    statement = update(Job).where(_leased(job)).values(**values).returning(Job.id)
    with store.transaction() as session:
        changed = session.execute(statement, execution_options=_UNSYNCED).first()
    return changed is not None


def _settle(session: Session, job: ClaimedJob, **values: Any) -> None:
    hold(session, job)
    session.execute(update(Job).where(_leased(job)).values(**values), execution_options=_UNSYNCED)


def cancel_in(session: Session, export_id: int, reason: str) -> int:
    """Fail the export's queued or running jobs in the caller's transaction; return how many.

    A running job's lease is taken away with it: its worker's next heartbeat or write finds
    the job no longer its own (``LeaseLost``) and stops, writing nothing.
    """
    statement = (
        update(Job)
        .where(Job.export_id == export_id, Job.status.in_(ACTIVE_JOB_STATUSES))
        .values(
            status="failed",
            last_error=reason,
            finished_at=db_time(_dialect(session)),
            **_NO_LEASE,
        )
        .returning(Job.id)
    )
    return len(session.execute(statement, execution_options=_UNSYNCED).all())


def lock_queued_in(session: Session, export_id: int) -> bool:
    """Hold the export's queued job until the caller's transaction ends; False if none.

    The job stays queued, but no worker can claim it meanwhile (a claim skips locked rows on
    PostgreSQL; SQLite runs one writer at a time): what the caller changes is what runs.
    """
    statement = (
        update(Job)
        .where(Job.export_id == export_id, Job.status == "queued")
        .values(status="queued")  # a write that changes nothing but takes the row lock
        .returning(Job.id)
    )
    return bool(session.execute(statement, execution_options=_UNSYNCED).all())


def delete_jobs_in(session: Session, export_id: int) -> None:
    """Delete every job of an export (it is being deleted), in the caller's transaction."""
    session.execute(delete(Job).where(Job.export_id == export_id), execution_options=_UNSYNCED)


def heartbeat(store: Store, job: ClaimedJob, *, lease_seconds: float) -> bool:
    """Extend the lease by the database's clock; False when another worker holds the job."""
    return _while_leased(store, job, lease_expires_at=db_time(store.dialect, plus=lease_seconds))


def complete_in(session: Session, job: ClaimedJob) -> None:
    """Mark the job done in the caller's transaction; ``LeaseLost`` if it is not ours."""
    _settle(session, job, status="done", finished_at=db_time(_dialect(session)), **_NO_LEASE)


def fail_in(session: Session, job: ClaimedJob, error: str) -> None:
    """Mark the job failed for good in the caller's transaction; ``LeaseLost`` if not ours."""
    _settle(
        session,
        job,
        status="failed",
        last_error=error,
        finished_at=db_time(_dialect(session)),
        **_NO_LEASE,
    )


def retry_in(
    session: Session, job: ClaimedJob, delay: float, *, error: str, count_attempt: bool = True
) -> None:
    """Queue the job again ``delay`` seconds from now (database clock), in the caller's
    transaction; ``LeaseLost`` if it is not ours.

    ``count_attempt=False`` gives the attempt back (rate limits, waiting for another export,
    one chunk of a longer job done).
    """
    _settle(
        session,
        job,
        last_error=error,
        **_requeued(db_time(_dialect(session), plus=delay), give_attempt_back=not count_attempt),
    )


def _requeued(run_at: Any, *, give_attempt_back: bool) -> dict[str, Any]:
    attempts = Job.attempts - 1 if give_attempt_back else Job.attempts
    return {
        "status": "queued",
        "run_at": run_at,
        "attempts": attempts,
        "locked_by": None,
        **_NO_LEASE,
    }


def release(store: Store, job: ClaimedJob) -> bool:
    """Give the job back to the queue at once, attempt returned (a worker shutting down)."""
    return _while_leased(store, job, **_requeued(db_time(store.dialect), give_attempt_back=True))


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


def ready_count(session: Session) -> int:
    """Count the jobs a worker could claim now (by the database's clock)."""
    statement = select(func.count(Job.id)).where(ready_clause(db_time(_dialect(session))))
    return int(session.scalar(statement) or 0)

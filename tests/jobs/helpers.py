"""Small helpers of the job runtime tests: queue a job, read its row, settle it, compare times."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from sqlalchemy.orm import Session

from zenodo_export.clock import utcnow
from zenodo_export.jobs import ClaimedJob, claim, enqueue
from zenodo_export.store import Job, Store

LEASE = 60.0
"""A lease that does not run out during a test."""

SHORT = 0.4
"""A lease meant to run out during a test (by the database's clock)."""


def queued(
    store: Store,
    kind: str = "ping",
    *,
    run_at: dt.datetime | None = None,
    export_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> int:
    """Queue one job in its own transaction; return its id."""
    with store.transaction() as session:
        return enqueue(session, kind, run_at=run_at, export_id=export_id, payload=payload).id


def take(
    store: Store,
    worker: str = "w",
    *,
    lease: float = LEASE,
    max_attempts: int = 25,
    kinds: Collection[str] | None = None,
    export_id: int | None = None,
) -> ClaimedJob | None:
    """Claim the oldest ready job as ``worker``."""
    return claim(
        store,
        worker_id=worker,
        lease_seconds=lease,
        max_attempts=max_attempts,
        kinds=kinds,
        export_id=export_id,
    )


def row(store: Store, job_id: int) -> Job:
    """Return the job's row as stored now."""
    with store.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def state(store: Store, job_id: int) -> tuple[object, ...]:
    """Return every column a settling write may change."""
    job = row(store, job_id)
    return (
        job.status,
        job.attempts,
        job.run_at,
        job.lease_token,
        job.lease_expires_at,
        job.locked_by,
        job.last_error,
        job.finished_at,
        job.lost_count,
    )


def settle(store: Store, write: Callable[[Session], object]) -> None:
    """Run ``write`` in one transaction of its own."""
    with store.transaction() as session:
        write(session)


def outlive(seconds: float = SHORT) -> None:
    """Sleep until a lease of ``seconds`` taken just before has run out."""
    time.sleep(seconds + 0.15)


def near(moment: dt.datetime | None, expected: dt.datetime, slack: float = 1.0) -> bool:
    """Say whether ``moment`` is within ``slack`` seconds of ``expected``."""
    return moment is not None and abs((moment - expected).total_seconds()) <= slack


def between(moment: dt.datetime | None, start: dt.datetime, end: dt.datetime) -> bool:
    """Say whether ``moment`` lies in ``[start, end]``, give or take a few milliseconds."""
    slack = dt.timedelta(milliseconds=5)
    return moment is not None and start - slack <= moment <= end + slack


def hours(count: float) -> dt.datetime:
    """Return the time ``count`` hours from now (negative: in the past)."""
    return utcnow() + dt.timedelta(hours=count)

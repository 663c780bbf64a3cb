"""``/api/v1/queue``: jobs by kind and status, the oldest waiting job, the workers seen."""

from __future__ import annotations

from fastapi import APIRouter

from zenodo_export.clock import utcnow
from zenodo_export.jobs.presence import workers_seen
from zenodo_export.web.access import Viewer
from zenodo_export.web.api.models import JobCount, QueuePublic, WaitingPublic, WorkerPublic
from zenodo_export.web.context import Db
from zenodo_export.web.stats import jobs_by_kind_and_status, oldest_waiting, ready_jobs

router = APIRouter(prefix="/queue", tags=["queue"])


@router.get("", summary="The job queue and the workers")
def show_queue(db: Db, _: Viewer) -> QueuePublic:
    """Jobs counted by kind and status, how many a worker could take now, the job that has
    waited longest, and every worker seen with its last heartbeat."""
    now = utcnow()
    counts = jobs_by_kind_and_status(db)
    waiting = oldest_waiting(db, now)
    return QueuePublic(
        jobs=[
            JobCount(kind=kind, status=status, count=n)  # type: ignore[arg-type]
            for (kind, status), n in sorted(counts.items())
        ],
        ready=ready_jobs(db, now),
        oldest_waiting=None
        if waiting is None
        else WaitingPublic(
            job_id=waiting.job_id,
            kind=waiting.kind,
            export_id=waiting.export_id,
            since=waiting.since,
            age_seconds=waiting.seconds(now),
        ),
        workers=[
            WorkerPublic(
                id=worker.id,
                hostname=worker.hostname,
                pid=worker.pid,
                queues=[q for q in worker.queues.split(",") if q],
                concurrency=worker.concurrency,
                started_at=worker.started_at,
                last_seen_at=worker.last_seen_at,
                stopped_at=worker.stopped_at,
                alive=alive,
            )
            for worker, alive in workers_seen(db)
        ],
    )

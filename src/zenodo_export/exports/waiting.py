"""Why an unfinished export is not done yet, in a few words (``list``, ``show``, ``--wait``).

``reason`` reads the export's active job and the earlier export of its name it waits for;
``describe`` is the pure wording, so that every place a person waits reads the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy.orm import Session

from zenodo_export.clock import utcnow
from zenodo_export.jobs import queue
from zenodo_export.store import DataExport, Job, ZenodoDataExport, earlier_in_progress


def waited_for(session: Session, export: DataExport) -> DataExport | None:
    """Return the earlier export of the same name that ``export`` waits for, if any."""
    if not isinstance(export, ZenodoDataExport) or export.finished_exporting_at is not None:
        return None
    return earlier_in_progress(session, export)


def reason(session: Session, export: DataExport) -> str | None:
    """Say why ``export`` is not finished (None once it is done or failed)."""
    if export.state in ("done", "failed"):
        return None
    earlier = waited_for(session, export)
    job = queue.active_job_for_export(session, export.id)
    return describe(job, earlier_id=earlier.id if earlier is not None else None)


def describe(
    job: Job | None,
    *,
    earlier_id: int | None = None,
    local: Collection[str] | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Word the state of an unfinished export's job; ``local``: queues this machine takes."""
    if job is None:
        return "no job queued (`zenodo-export retry` queues it)"
    if job.status == "running":
        return f"running on {job.locked_by}"
    parts = [f"waits for export {earlier_id} (same name, published in order)"] if earlier_id else []
    local = queue.local_queues() if local is None else local
    if job.queue != queue.DEFAULT_QUEUE and job.queue not in local:
        parts.append(f"only a worker of queue {job.queue} takes it")
    parts.append(_turn(job, now or utcnow()))
    return "; ".join(parts)


def _turn(job: Job, now: dt.datetime) -> str:
    """Say when the job may run: later (a back-off or a wait), or now, when a worker takes it."""
    run_at = job.run_at if job.run_at.tzinfo else job.run_at.replace(tzinfo=dt.UTC)
    if run_at > now:
        return f"next attempt at {run_at:%Y-%m-%d %H:%M:%S} UTC"
    return f"queued since {run_at:%Y-%m-%d %H:%M:%S} UTC, for the next free worker"

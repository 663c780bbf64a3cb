"""Follow one export to its end, running its job in this process whenever it is ready.

Used by ``export --wait`` and ``demo``: if a worker elsewhere claims the job first, this only
watches; if no worker is up, this process does the work, so ``--wait`` always ends. An export
waits for the earlier exports of its name (versions are published in order): this process
runs those first, oldest first, when they are in a queue it may take. While it only watches,
it says once what it waits for, and again whenever that changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from zenodo_export.exports.waiting import waited_for
from zenodo_export.jobs import queue
from zenodo_export.jobs.runner import JobRunner
from zenodo_export.jobs.worker import run_claimed, worker_id
from zenodo_export.store import DataExport, get_export

Notice = Callable[[str], None]
"""Tells the person waiting what the export waits for."""


def follow(
    runner: JobRunner, export_id: int, *, poll: float = 0.5, notice: Notice | None = None
) -> DataExport:
    """Run or watch ``export_id`` until it is done or failed; return the final row."""
    try:
        return _follow(runner, export_id, worker_id(), poll, notice or (lambda _: None))
    finally:
        runner.close()


def _follow(runner: JobRunner, export_id: int, me: str, poll: float, notice: Notice) -> DataExport:
    store, settings = runner.store, runner.settings
    said = ""
    while True:
        with store.transaction() as session:
            export = get_export(session, export_id)
            if export.state in ("done", "failed"):
                session.expunge(export)
                return export
            earlier = waited_for(session, export)
            target = export_id if earlier is None else earlier.id
            waiting = _waiting_message(session, export_id, target)
        sent = time.monotonic()
        job = queue.claim(
            store,
            worker_id=me,
            lease_seconds=settings.lease_seconds,
            max_attempts=settings.max_attempts,
            export_id=target,
            queues=None if target == export_id else queue.local_queues(),
        )
        if job is None:
            if waiting != said:
                notice(waiting)
                said = waiting
            time.sleep(poll)
            continue
        said = ""
        run_claimed(runner, job, sent)


def _waiting_message(session: Session, export_id: int, target: int) -> str:
    """Say what the followed export waits for: its own job's turn, or an earlier export."""
    job = queue.active_job_for_export(session, target)
    what = f"export {export_id}" if target == export_id else f"export {export_id} waits for "
    if target != export_id:
        what += f"export {target} of the same name (versions are published in order); it"
    if job is None:
        return f"{what} has no job queued"
    if job.status == "running":
        return f"{what} is running on {job.locked_by}"
    if job.queue != queue.DEFAULT_QUEUE and job.queue not in queue.local_queues():
        return f"{what} waits in queue {job.queue}: only a worker there takes it"
    return f"{what} is queued until {job.run_at:%Y-%m-%d %H:%M:%S} UTC"

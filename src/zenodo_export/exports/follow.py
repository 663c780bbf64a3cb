"""Follow one export to its end, running its job in this process whenever it is ready.

Used by ``export --wait`` and ``demo``: if a worker elsewhere claims the job first, this only
watches; if no worker is up, this process does the work, so ``--wait`` always ends.
"""

from __future__ import annotations

import time

from zenodo_export.jobs import queue
from zenodo_export.jobs.runner import JobRunner
from zenodo_export.jobs.worker import run_claimed, worker_id
from zenodo_export.store import DataExport, get_export


def follow(runner: JobRunner, export_id: int, *, poll: float = 0.5) -> DataExport:
    """Run or watch ``export_id`` until it is done or failed; return the final row."""
    try:
        return _follow(runner, export_id, worker_id(), poll)
    finally:
        runner.close()


def _follow(runner: JobRunner, export_id: int, me: str, poll: float) -> DataExport:
    store, settings = runner.store, runner.settings
    while True:
        with store.transaction() as session:
            export = get_export(session, export_id)
            if export.state in ("done", "failed"):
                session.expunge(export)
                return export
        sent = time.monotonic()
        job = queue.claim(
            store,
            worker_id=me,
            lease_seconds=settings.lease_seconds,
            max_attempts=settings.max_attempts,
            export_id=export_id,
        )
        if job is None:
            time.sleep(poll)
            continue
        run_claimed(runner, job, sent)

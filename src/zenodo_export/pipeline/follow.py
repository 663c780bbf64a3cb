"""Follow one export to its end, running its job in this process whenever it is ready.

Used by ``export --wait`` and ``demo``: if a worker elsewhere claims the job first, this only
watches; if no worker is up, this process does the work, so ``--wait`` always ends.
"""

from __future__ import annotations

import time

from zenodo_export.pipeline.runner import JobRunner
from zenodo_export.pipeline.worker import Heartbeat, worker_id
from zenodo_export.store import DataExport, Store, get_export, jobs


def follow(store: Store, runner: JobRunner, export_id: int, *, poll: float = 0.5) -> DataExport:
    """Run or watch ``export_id`` until it is done or failed; return the final row."""
    me = worker_id()
    try:
        return _follow(store, runner, export_id, me, poll)
    finally:
        runner.close()


def _follow(store: Store, runner: JobRunner, export_id: int, me: str, poll: float) -> DataExport:
    while True:
        with store.transaction() as session:
            export = get_export(session, export_id)
            if export.state in ("done", "failed"):
                session.expunge(export)
                return export
        job = jobs.claim(
            store, worker_id=me, lease_seconds=runner.settings.lease_seconds, export_id=export_id
        )
        if job is None:
            time.sleep(poll)
            continue
        with Heartbeat(store, job, lease_seconds=runner.settings.lease_seconds):
            runner.perform(job)

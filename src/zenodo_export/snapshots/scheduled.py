"""Scheduled snapshots: ``[snapshots.NAME]`` entries of the config file, fired like reports.

A schedule's period queues a ``scheduled_snapshot`` job (``schedules/fire.py``); the job
creates the snapshot and records it on the period's row in ONE transaction, so a job that
runs again after a crash finds the row filled and creates nothing more.
"""

from __future__ import annotations

import datetime as dt

from zenodo_export.reports.config import Config, load_config
from zenodo_export.reports.job import schedules_for
from zenodo_export.schedules import Schedule
from zenodo_export.settings import Settings
from zenodo_export.snapshots.options import check_upload
from zenodo_export.snapshots.service import SnapshotRequest, add_snapshot
from zenodo_export.store import ClaimedJob, Store
from zenodo_export.store.models import ScheduleRun

KIND = "scheduled_snapshot"
"""The job kind that starts one scheduled snapshot for one period."""


def snapshot_schedules(config: Config) -> list[Schedule]:
    """Return a schedule per snapshot entry that has one, named ``snapshots.<name>``."""
    return schedules_for(config.snapshots, section="snapshots", job_kind=KIND, config=config)


def perform_scheduled_snapshot(store: Store, settings: Settings, job: ClaimedJob) -> None:
    """Create the snapshot a schedule fired (once per period) and queue its crawl."""
    entry = load_config(settings).snapshots[str(job.payload["target"])]
    creators = (settings.creator,) if settings.creator else ()
    if entry.upload:
        check_upload(creators, settings.github_url)
    with store.transaction() as session:
        run = session.get(ScheduleRun, int(job.payload["schedule_run_id"]))
        if run is None or run.export_id is not None:
            return
        request = SnapshotRequest(
            entry.url,
            pages_per_job=entry.pages_per_job,
            start_page=entry.start_page,
            stop_page=entry.stop_page,
            concurrency=entry.concurrency,
            upload=entry.upload,
        )
        date = dt.date.fromisoformat(str(job.payload["date"]))
        run.export_id = add_snapshot(session, settings, request, date=date, creators=creators)

"""Scheduled snapshots: ``[snapshots.NAME]`` entries of the config file, fired like reports.

A schedule's period queues a ``scheduled_snapshot`` job (``schedules/fire.py``); the job
creates the snapshot and records it on the period's row in ONE transaction, so a job that
runs again after a crash finds the row filled and creates nothing more.
"""

from __future__ import annotations

import datetime as dt

from zenodo_export.config_file import load_config_file
from zenodo_export.jobs.context import JobContext
from zenodo_export.jobs.registry import JobKind, Registry
from zenodo_export.snapshots.service import add_snapshot, creators_of
from zenodo_export.store.models import ScheduleRun

KIND = "scheduled_snapshot"
"""The job kind that starts one scheduled snapshot for one period."""


def perform_scheduled_snapshot(context: JobContext) -> None:
    """Create the snapshot a schedule fired (once per period) and queue its crawl."""
    job, settings = context.job, context.settings
    entry = load_config_file(settings).snapshot(str(job.payload["target"]))
    creators = creators_of(settings, entry)
    with context.transaction() as session:
        run = session.get(ScheduleRun, int(job.payload["schedule_run_id"]))
        if run is None or run.export_id is not None:
            return
        date = dt.date.fromisoformat(str(job.payload["date"]))
        run.export_id = add_snapshot(session, settings, entry, date=date, creators=creators)


def register(registry: Registry) -> None:
    """Add the ``scheduled_snapshot`` job kind to ``registry``."""
    registry.add(JobKind(KIND, perform_scheduled_snapshot))

"""The ``report`` job a schedule queues: run one report of the config file for one period."""

from __future__ import annotations

import datetime as dt

from zenodo_export.config_file import load_config_file
from zenodo_export.jobs.context import JobContext
from zenodo_export.jobs.registry import JobKind, Registry
from zenodo_export.reports.run import ReportRun, run_report

KIND = "report"
"""The job kind that runs one report for one period."""


def perform_report(context: JobContext) -> None:
    """Run the report a schedule fired, for its period (the config file is read now)."""
    job, settings = context.job, context.settings
    name = str(job.payload["target"])
    run = ReportRun(
        name=name,
        report=load_config_file(settings).report(name),
        date=dt.date.fromisoformat(str(job.payload["date"])),
        period=job.payload.get("period"),
        schedule_run_id=job.payload.get("schedule_run_id"),
    )
    run_report(context.store, settings, run, transaction=context.transaction)


def register(registry: Registry) -> None:
    """Add the ``report`` job kind to ``registry``."""
    registry.add(JobKind(KIND, perform_report))

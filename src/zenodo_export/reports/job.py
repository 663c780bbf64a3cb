"""The ``report`` job a schedule queues, and the schedules the config file defines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from zenodo_export.reports.config import Config, load_config
from zenodo_export.reports.run import ReportRun, run_report
from zenodo_export.schedules import Schedule, ScheduleTicker
from zenodo_export.settings import Settings
from zenodo_export.store import ClaimedJob, Store

KIND = "report"
"""The job kind that runs one report for one period."""


def schedules_for(
    entries: Mapping[str, Any], *, section: str, job_kind: str, config: Config
) -> list[Schedule]:
    """Return a schedule per entry of a config section that has one (``<section>.<name>``)."""
    options = config.schedules
    return [
        Schedule(
            name=f"{section}.{name}",
            rule=options.rule_of(entry.schedule),
            job_kind=job_kind,
            target=name,
            written=entry.schedule,
            timezone=options.timezone,
            max_catch_up=options.max_catch_up,
        )
        for name, entry in sorted(entries.items())
        if entry.schedule is not None
    ]


def report_schedules(config: Config) -> list[Schedule]:
    """Return a schedule per report that has one, named ``reports.<name>``."""
    return schedules_for(config.reports, section="reports", job_kind=KIND, config=config)


def all_schedules(config: Config) -> list[Schedule]:
    """Return every schedule of the config file: reports' and snapshots'."""
    from zenodo_export.snapshots.scheduled import snapshot_schedules

    return report_schedules(config) + snapshot_schedules(config)


def schedule_ticks(store: Store, settings: Settings) -> list[ScheduleTicker]:
    """Return the worker duty that fires the configured schedules (none without schedules)."""
    schedules = all_schedules(load_config(settings))
    if not schedules:
        return []
    return [ScheduleTicker(store, schedules, interval=settings.schedule_tick_seconds)]


def perform_report(store: Store, settings: Settings, job: ClaimedJob) -> None:
    """Run the report a schedule fired, for its period (the config is read now)."""
    name = str(job.payload["target"])
    run = ReportRun(
        name=name,
        report=load_config(settings).report(name),
        date=dt.date.fromisoformat(str(job.payload["date"])),
        period=job.payload.get("period"),
        schedule_run_id=job.payload.get("schedule_run_id"),
    )
    run_report(store, settings, run)

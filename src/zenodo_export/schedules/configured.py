"""The schedules the config file defines, and the worker duty that fires them.

Each ``[reports.NAME]`` or ``[snapshots.NAME]`` entry with a ``schedule`` is one ``Schedule``
named ``<section>.<NAME>``, queueing its feature's job kind (``report``,
``scheduled_snapshot``). ``[schedules]`` says what ``monthly`` means, in which time zone the
rules are read and how many missed periods run after an outage.
"""

from __future__ import annotations

from collections.abc import Mapping

from zenodo_export.config_file import ConfigFile, ReportEntry, SnapshotEntry, load_config_file
from zenodo_export.reports.job import KIND as REPORT_KIND
from zenodo_export.schedules.fire import Schedule, ScheduleTicker
from zenodo_export.settings import Settings
from zenodo_export.snapshots.scheduled import KIND as SNAPSHOT_KIND
from zenodo_export.store import Store


def schedules_of(
    entries: Mapping[str, ReportEntry | SnapshotEntry],
    *,
    section: str,
    job_kind: str,
    config_file: ConfigFile,
) -> list[Schedule]:
    """Return a schedule per entry of a section that has one (``<section>.<name>``)."""
    table = config_file.schedules
    return [
        Schedule(
            name=f"{section}.{name}",
            rule=table.rule_of(entry.schedule),
            job_kind=job_kind,
            target=name,
            written=entry.schedule,
            timezone=table.timezone,
            max_catch_up=table.max_catch_up,
        )
        for name, entry in sorted(entries.items())
        if entry.schedule is not None
    ]


def report_schedules(config_file: ConfigFile) -> list[Schedule]:
    """Return a schedule per report that has one, named ``reports.<name>``."""
    return schedules_of(
        config_file.reports, section="reports", job_kind=REPORT_KIND, config_file=config_file
    )


def snapshot_schedules(config_file: ConfigFile) -> list[Schedule]:
    """Return a schedule per snapshot entry that has one, named ``snapshots.<name>``."""
    return schedules_of(
        config_file.snapshots, section="snapshots", job_kind=SNAPSHOT_KIND, config_file=config_file
    )


def all_schedules(config_file: ConfigFile) -> list[Schedule]:
    """Return every schedule of the config file: reports' and snapshots'."""
    return report_schedules(config_file) + snapshot_schedules(config_file)


def schedule_ticks(store: Store, settings: Settings) -> list[ScheduleTicker]:
    """Return the worker duty that fires the configured schedules (none without schedules)."""
    schedules = all_schedules(load_config_file(settings))
    if not schedules:
        return []
    return [ScheduleTicker(store, schedules, interval=settings.schedule_tick_seconds)]

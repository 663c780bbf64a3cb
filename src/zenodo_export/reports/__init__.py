"""Reports: SQL queries written to CSV (or existing files), zipped with a README, exported.

``config`` reads the config file (reports, schedules); ``query`` runs a report's SQL against
its own database; ``run`` writes, logs and queues; ``job`` is the scheduled ``report`` job.
"""

from zenodo_export.reports.config import Config, ReportConfig, load_config, read_config
from zenodo_export.reports.job import (
    KIND,
    all_schedules,
    perform_report,
    report_schedules,
    schedule_ticks,
)
from zenodo_export.reports.run import ReportRun, missing_settings, run_report

__all__ = [
    "KIND",
    "Config",
    "ReportConfig",
    "ReportRun",
    "all_schedules",
    "load_config",
    "missing_settings",
    "perform_report",
    "read_config",
    "report_schedules",
    "run_report",
    "schedule_ticks",
]

"""Reports: SQL queries written to CSV (or existing files), zipped with a README, exported.

A report is a ``[reports.NAME]`` entry of the config file (``zenodo_export.config_file``);
``query`` runs its SQL against its own database; ``run`` writes, logs and queues; ``job`` is
the ``report`` job its schedule (``zenodo_export.schedules.configured``) queues.
"""

from zenodo_export.reports.job import KIND, perform_report, register
from zenodo_export.reports.run import ReportRun, missing_settings, run_report

__all__ = [
    "KIND",
    "ReportRun",
    "missing_settings",
    "perform_report",
    "register",
    "run_report",
]

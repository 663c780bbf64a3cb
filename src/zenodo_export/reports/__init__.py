"""Reports: SQL queries written to CSV (or existing files), zipped with a README, exported.

A report is a ``[reports.NAME]`` entry of the config file (``zenodo_export.config_file``);
``query`` runs its SQL against its own database; ``run`` writes, logs and queues; ``job`` is
the ``report`` job its schedule (``zenodo_export.schedules.configured``) queues.
"""

from typing import Any

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


def __getattr__(name: str) -> Any:
    """Resolve ``schedule_ticks``, moved to ``schedules.configured``, for ``cli/worker.py``.

    Temporary: ``cli/worker.py`` (owned elsewhere) still imports it from here. Once it imports
    ``zenodo_export.schedules.configured.schedule_ticks``, delete this function.
    """
    if name == "schedule_ticks":
        from zenodo_export.schedules.configured import schedule_ticks

        return schedule_ticks
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

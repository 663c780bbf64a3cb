"""Schedules: cron-like rules whose periods the workers fire exactly once each.

``periods`` holds the pure decisions (which periods are due, what comes next); ``fire`` records
each period in ``schedule_runs`` and queues its job in one transaction, and provides the
``ScheduleTicker`` duty the workers run; ``configured`` builds the schedules of the config
file (import it from there: it knows the features' job kinds, this package does not).
"""

from zenodo_export.schedules.fire import (
    Fired,
    Schedule,
    ScheduleState,
    ScheduleTicker,
    fire_due,
    last_run,
    next_run,
    schedule_state,
)
from zenodo_export.schedules.periods import due_periods, next_fire_time, period_key

__all__ = [
    "Fired",
    "Schedule",
    "ScheduleState",
    "ScheduleTicker",
    "due_periods",
    "fire_due",
    "last_run",
    "next_fire_time",
    "next_run",
    "period_key",
    "schedule_state",
]

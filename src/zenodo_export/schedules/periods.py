"""Pure decisions of the schedules: which periods are due, which comes next.

A period is one fire time of a cron rule (``monthly`` is ``50 2 10 * *`` by default),
evaluated in the schedule's time zone and named by its UTC minute (``2026-11-10T02:50Z``).

Catch-up rule: every fire time after the last recorded one, up to ``now``, is due, but at
most the newest ``max_catch_up`` of them (a year of months by default), so that workers back
after a long outage do not replay history. A schedule that never ran has only its latest fire
time due: it starts with the current period instead of every period since the epoch.
"""

from __future__ import annotations

import datetime as dt
from itertools import islice
from zoneinfo import ZoneInfo

from cronsim import CronSim

UTC = dt.UTC


def period_key(due: dt.datetime) -> str:
    """Return the key of the period that fires at ``due`` (its UTC minute)."""
    return due.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def latest_fire_times(
    rule: str, *, now: dt.datetime, timezone: str = "UTC", limit: int
) -> list[dt.datetime]:
    """Return up to ``limit`` fire times at or before ``now``, newest first, in UTC."""
    # cronsim walks back from strictly before its start and works in whole seconds.
    start = now.astimezone(ZoneInfo(timezone)).replace(microsecond=0) + dt.timedelta(seconds=1)
    times = (moment.astimezone(UTC) for moment in CronSim(rule, start, reverse=True))
    return [moment for moment in islice(times, limit + 1) if moment <= now][:limit]


def due_periods(
    rule: str,
    *,
    last: dt.datetime | None,
    now: dt.datetime,
    timezone: str = "UTC",
    max_catch_up: int,
) -> list[dt.datetime]:
    """Return the fire times to run now, oldest first (see the module's catch-up rule)."""
    recent = latest_fire_times(rule, now=now, timezone=timezone, limit=max_catch_up)
    if last is None:
        return recent[:1]
    return sorted(moment for moment in recent if moment > last)


def next_fire_time(rule: str, *, after: dt.datetime, timezone: str = "UTC") -> dt.datetime:
    """Return the first fire time strictly after ``after``, in UTC."""
    start = after.astimezone(ZoneInfo(timezone))
    return next(CronSim(rule, start)).astimezone(UTC)

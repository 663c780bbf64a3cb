"""Which periods of a schedule are due: monthly, cron rules, catch-up bounds, first start."""

from __future__ import annotations

import datetime as dt

from zenodo_export.config_file import monthly_rule
from zenodo_export.schedules import due_periods, next_fire_time, period_key

UTC = dt.UTC
MONTHLY = monthly_rule(10, "02:50")


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def test_monthly_is_the_tenth_at_0250() -> None:
    """Lagotto's monthly rule fires on the 10th at 02:50, not a minute before."""
    assert MONTHLY == "50 2 10 * *"
    last = at(2026, 10, 10, 2, 50)
    assert due_periods(MONTHLY, last=last, now=at(2026, 11, 10, 2, 49), max_catch_up=12) == []
    assert due_periods(MONTHLY, last=last, now=at(2026, 11, 10, 2, 50), max_catch_up=12) == [
        at(2026, 11, 10, 2, 50)
    ]
    assert next_fire_time(MONTHLY, after=at(2026, 11, 10, 2, 50)) == at(2026, 12, 10, 2, 50)


def test_missed_months_are_caught_up_oldest_first() -> None:
    """Two months down: both missed periods are due, in order."""
    due = due_periods(MONTHLY, last=at(2026, 9, 10, 2, 50), now=at(2026, 11, 20), max_catch_up=12)
    assert due == [at(2026, 10, 10, 2, 50), at(2026, 11, 10, 2, 50)]


def test_catch_up_is_bounded_to_the_newest_periods() -> None:
    """After three years down only the newest ``max_catch_up`` periods run."""
    due = due_periods(MONTHLY, last=at(2023, 1, 10, 2, 50), now=at(2026, 11, 20), max_catch_up=3)
    assert due == [at(2026, 9, 10, 2, 50), at(2026, 10, 10, 2, 50), at(2026, 11, 10, 2, 50)]


def test_first_start_runs_only_the_latest_period() -> None:
    """A schedule that never ran fires its latest period, not its whole history."""
    assert due_periods(MONTHLY, last=None, now=at(2026, 11, 20), max_catch_up=12) == [
        at(2026, 11, 10, 2, 50)
    ]


def test_cron_rule_every_quarter_hour() -> None:
    """A cron rule's due periods are its fire times after the last one."""
    due = due_periods(
        "*/15 * * * *", last=at(2026, 11, 20, 9, 0), now=at(2026, 11, 20, 9, 40), max_catch_up=12
    )
    assert due == [at(2026, 11, 20, 9, 15), at(2026, 11, 20, 9, 30)]


def test_time_zone_moves_the_fire_time_and_keys_are_utc() -> None:
    """02:50 in Berlin is 01:50 UTC in winter; the period key is that UTC minute."""
    due = due_periods(
        MONTHLY, last=None, now=at(2026, 11, 20), timezone="Europe/Berlin", max_catch_up=12
    )
    assert due == [at(2026, 11, 10, 1, 50)]
    assert period_key(due[0]) == "2026-11-10T01:50Z"

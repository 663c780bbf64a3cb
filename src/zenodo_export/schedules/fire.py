"""Fire due schedules exactly once, whatever the number of workers and machines.

Every worker runs ``ScheduleTicker`` before its claims. For each due period it inserts a
``schedule_runs`` row (unique per schedule and period) and, in the SAME transaction, queues
the schedule's job. Two workers that see the same period both try: the unique constraint lets
one insert win and the other's savepoint roll back (PostgreSQL makes the loser wait for the
winner's commit; SQLite's ``BEGIN IMMEDIATE`` runs the two one after the other), so a period
has one row and one job, and the job (a normal retried job) does the work.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zenodo_export import defaults
from zenodo_export.clock import utcnow
from zenodo_export.jobs import queue
from zenodo_export.schedules.periods import due_periods, next_fire_time, period_key
from zenodo_export.store import Store
from zenodo_export.store.models import ScheduleRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """A rule that fires a target's job once per period (``reports.monthly`` -> ``report``)."""

    name: str
    rule: str
    job_kind: str
    target: str
    written: str
    timezone: str = "UTC"
    max_catch_up: int = defaults.MAX_CATCH_UP

    def payload(self, due: dt.datetime) -> dict[str, Any]:
        """Return what the job of the period at ``due`` is told."""
        return {
            "target": self.target,
            "schedule": self.name,
            "period": period_key(due),
            "date": due.astimezone(ZoneInfo(self.timezone)).date().isoformat(),
        }


@dataclass(frozen=True)
class Fired:
    """One period that this call fired."""

    schedule: str
    period: str
    job_id: int


def last_run(session: Session, schedule: str) -> ScheduleRun | None:
    """Return the newest recorded period of a schedule."""
    statement = (
        select(ScheduleRun)
        .where(ScheduleRun.schedule == schedule)
        .order_by(ScheduleRun.due_at.desc())
        .limit(1)
    )
    return session.scalars(statement).first()


def _due(session: Session, schedule: Schedule, now: dt.datetime) -> list[dt.datetime]:
    return _due_after(schedule, last_run(session, schedule.name), now)


def _due_after(schedule: Schedule, last: ScheduleRun | None, now: dt.datetime) -> list[dt.datetime]:
    return due_periods(
        schedule.rule,
        last=last.due_at if last is not None else None,
        now=now,
        timezone=schedule.timezone,
        max_catch_up=schedule.max_catch_up,
    )


def _fire_period(session: Session, schedule: Schedule, due: dt.datetime) -> Fired | None:
    run = ScheduleRun(schedule=schedule.name, period=period_key(due), due_at=due)
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:
        return None  # another worker fired this period first
    job = queue.enqueue(
        session, schedule.job_kind, payload={**schedule.payload(due), "schedule_run_id": run.id}
    )
    session.flush()
    run.job_id = job.id
    return Fired(schedule.name, run.period, job.id)


def fire_due(
    store: Store, schedules: Sequence[Schedule], *, now: dt.datetime | None = None
) -> list[Fired]:
    """Fire every due period of every schedule (see ``periods`` for which are due)."""
    now = now or utcnow()
    fired: list[Fired] = []
    for schedule in schedules:
        with store.transaction() as session:
            due = _due(session, schedule, now)
            fired += [f for moment in due if (f := _fire_period(session, schedule, moment))]
    return fired


def next_run(session: Session, schedule: Schedule, now: dt.datetime) -> dt.datetime:
    """Return when the schedule fires next: its oldest unfired due period, else the next one."""
    return schedule_state(session, schedule, now).next_run


@dataclass(frozen=True)
class ScheduleState:
    """One schedule as people read it (``schedule list``, the API, the dashboard)."""

    name: str
    target: str
    job_kind: str
    rule: str
    cron: str
    timezone: str
    last_period: str | None
    last_fired_at: dt.datetime | None
    last_export_id: int | None
    next_run: dt.datetime
    missed: tuple[dt.datetime, ...]
    """Periods due but not fired yet (a worker fires them at its next tick)."""


def schedule_state(session: Session, schedule: Schedule, now: dt.datetime) -> ScheduleState:
    """Read a schedule's last period run once, and say what is due and when it fires next."""
    last = last_run(session, schedule.name)
    due = _due_after(schedule, last, now)
    upcoming = (
        due[0] if due else next_fire_time(schedule.rule, after=now, timezone=schedule.timezone)
    )
    return ScheduleState(
        name=schedule.name,
        target=schedule.target,
        job_kind=schedule.job_kind,
        rule=schedule.written,
        cron=schedule.rule,
        timezone=schedule.timezone,
        last_period=last.period if last else None,
        last_fired_at=last.created_at if last else None,
        last_export_id=last.export_id if last else None,
        next_run=upcoming,
        missed=tuple(due),
    )


class ScheduleTicker:
    """A worker duty: fire due schedules, at most once per ``interval`` seconds per process."""

    def __init__(
        self,
        store: Store,
        schedules: Sequence[Schedule],
        *,
        interval: float,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.store = store
        self.schedules = tuple(schedules)
        self.interval = interval
        self.clock = clock
        self._last: float | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        """Fire due periods unless another thread is at it or the last look was too recent."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._last is not None and time.monotonic() - self._last < self.interval:
                return
            self._last = time.monotonic()  # before firing: a failing database is not hammered
            for fired in fire_due(self.store, self.schedules, now=self.clock()):
                log.info(
                    "schedule %s: fired %s (job %s)", fired.schedule, fired.period, fired.job_id
                )
        finally:
            self._lock.release()

"""The schedules page (``/schedules``): each schedule's last period, next run, missed periods."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from zenodo_export.clock import utcnow
from zenodo_export.config_file import load_config_file
from zenodo_export.errors import ZenodoExportError
from zenodo_export.schedules import Schedule, due_periods, last_run, next_run
from zenodo_export.schedules.configured import all_schedules
from zenodo_export.settings import Settings
from zenodo_export.web.context import Db, WebState
from zenodo_export.web.pages.render import render
from zenodo_export.web.pages.signin import PageCaller

router = APIRouter()


@dataclass(frozen=True)
class ScheduleRow:
    """One schedule as the pages show it."""

    name: str
    target: str
    rule: str
    cron: str
    timezone: str
    last_period: str | None
    last_fired_at: dt.datetime | None
    last_export_id: int | None
    next_run: dt.datetime
    missed: list[dt.datetime]
    """Periods due but not fired yet (a worker fires them at its next tick)."""


def schedule_row(session: Session, schedule: Schedule, now: dt.datetime) -> ScheduleRow:
    """Read one schedule's state as ``schedule list`` does, with its missed periods."""
    last = last_run(session, schedule.name)
    missed = due_periods(
        schedule.rule,
        last=last.due_at if last is not None else None,
        now=now,
        timezone=schedule.timezone,
        max_catch_up=schedule.max_catch_up,
    )
    return ScheduleRow(
        name=schedule.name,
        target=schedule.target,
        rule=schedule.written,
        cron=schedule.rule,
        timezone=schedule.timezone,
        last_period=last.period if last else None,
        last_fired_at=last.created_at if last else None,
        last_export_id=last.export_id if last else None,
        next_run=next_run(session, schedule, now),
        missed=missed,
    )


def schedule_rows(session: Session, settings: Settings) -> tuple[list[ScheduleRow], str | None]:
    """Every configured schedule's row, soonest first, or the config file's problem."""
    try:
        schedules = all_schedules(load_config_file(settings))
    except ZenodoExportError as exc:
        return [], f"the config file cannot be read: {exc}"
    now = utcnow()
    rows = [schedule_row(session, schedule, now) for schedule in schedules]
    return sorted(rows, key=lambda row: row.next_run), None


@router.get("/schedules", response_class=HTMLResponse)
def schedules_page(request: Request, db: Db, web: WebState, caller: PageCaller) -> Response:
    """Each schedule: rule, last period and its export, next run, missed periods."""
    rows, problem = schedule_rows(db, web.settings)
    return render(
        request, "schedules.html", caller=caller, rows=rows, problem=problem,
        config_path=str(web.settings.config_path),
    )  # fmt: skip

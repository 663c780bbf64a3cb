"""The schedules page (``/schedules``): each schedule's last period, next run, missed periods."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from zenodo_export.clock import utcnow
from zenodo_export.config_file import load_config_file
from zenodo_export.errors import ZenodoExportError
from zenodo_export.schedules import ScheduleState, schedule_state
from zenodo_export.schedules.configured import all_schedules
from zenodo_export.settings import Settings
from zenodo_export.web.context import Db, WebState
from zenodo_export.web.pages.render import render
from zenodo_export.web.pages.signin import PageCaller

router = APIRouter()


def schedule_rows(session: Session, settings: Settings) -> tuple[list[ScheduleState], str | None]:
    """Every configured schedule's row, soonest first, or the config file's problem."""
    try:
        schedules = all_schedules(load_config_file(settings))
    except ZenodoExportError as exc:
        return [], f"the config file cannot be read: {exc}"
    now = utcnow()
    rows = [schedule_state(session, schedule, now) for schedule in schedules]
    return sorted(rows, key=lambda row: row.next_run), None


@router.get("/schedules", response_class=HTMLResponse)
def schedules_page(request: Request, db: Db, web: WebState, caller: PageCaller) -> Response:
    """Each schedule: rule, last period and its export, next run, missed periods."""
    rows, problem = schedule_rows(db, web.settings)
    return render(
        request, "schedules.html", caller=caller, rows=rows, problem=problem,
        config_path=str(web.settings.config_path),
    )  # fmt: skip

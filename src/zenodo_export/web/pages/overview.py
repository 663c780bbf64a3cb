"""The overview page (``/``)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from zenodo_export.clock import utcnow
from zenodo_export.web import stats
from zenodo_export.web.context import Db, WebState
from zenodo_export.web.pages.render import render
from zenodo_export.web.pages.schedules import schedule_rows
from zenodo_export.web.pages.signin import PageCaller

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, db: Db, web: WebState, caller: PageCaller) -> Response:
    """Exports by state, failures, the queue, workers, schedules, the last success per name."""
    now = utcnow()
    schedules, schedule_problem = schedule_rows(db, web.settings)
    return render(
        request,
        "overview.html",
        caller=caller,
        by_state=stats.exports_by_state(db),
        failures=stats.failures_since(db, now - dt.timedelta(hours=24)),
        ready=stats.ready_jobs(db, now),
        oldest=stats.oldest_waiting(db, now),
        alive=stats.workers_alive(db),
        unresolved=stats.unresolved_alerts(db),
        schedules=schedules[:10],
        schedule_problem=schedule_problem,
        successes=stats.last_successes(db, limit=50),
        now=now,
        live=True,
    )

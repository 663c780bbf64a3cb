"""The workers page (``/workers``): workers seen, their last beat, alive or not, their jobs."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from zenodo_export.jobs.presence import ALIVE_SECONDS, workers_seen
from zenodo_export.store import Job
from zenodo_export.web.context import Db
from zenodo_export.web.pages.render import render
from zenodo_export.web.pages.signin import PageCaller

router = APIRouter()


@router.get("/workers", response_class=HTMLResponse)
def workers_page(request: Request, db: Db, caller: PageCaller) -> Response:
    """Each worker heard from, newest first, with the jobs it is running now."""
    seen = workers_seen(db)
    running = db.scalars(select(Job).where(Job.status == "running").order_by(Job.id)).all()
    by_worker: dict[str, list[Job]] = defaultdict(list)
    for job in running:
        by_worker[job.locked_by or ""].append(job)
    known = {worker.id for worker, _ in seen}
    elsewhere = [job for job in running if (job.locked_by or "") not in known]
    return render(
        request, "workers.html", caller=caller, seen=seen, by_worker=by_worker,
        elsewhere=elsewhere, alive_seconds=int(ALIVE_SECONDS), live=True,
    )  # fmt: skip

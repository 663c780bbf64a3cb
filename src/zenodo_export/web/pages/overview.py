"""The overview page (``/``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from zenodo_export.web.context import Db
from zenodo_export.web.pages.render import render
from zenodo_export.web.pages.signin import PageCaller

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, db: Db, caller: PageCaller) -> Response:
    """Exports by state, failures, the queue, workers, schedules, the last success per name."""
    return render(request, "overview.html", caller=caller)

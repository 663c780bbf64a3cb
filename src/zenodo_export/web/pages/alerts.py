"""The alerts page (``/alerts``), as Lagotto's admin page was: grouped by message, filtered by
class, host and level, resolved one at a time or a whole group with one click (admins)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from zenodo_export.errors import Conflict
from zenodo_export.store import Alert, resolve_alert
from zenodo_export.store.alerts import resolve_alike
from zenodo_export.store.browse import AlertFilter, alert_groups, alert_page
from zenodo_export.store.models import ALERT_LEVELS, AlertLevel
from zenodo_export.web.access import check_csrf
from zenodo_export.web.api.models import MAX_ID
from zenodo_export.web.context import Db
from zenodo_export.web.pages.render import flash, render
from zenodo_export.web.pages.signin import PageAdmin, PageCaller

router = APIRouter()

PAGE_SIZE = 25
"""Alerts per page of the list under the groups."""

Shown = Literal["unresolved", "resolved", "all"]
RESOLVED: dict[str, bool | None] = {"unresolved": False, "resolved": True, "all": None}


def _choices(session: Session, column: InstrumentedAttribute[str | None]) -> list[str]:
    statement = select(column).where(column.is_not(None)).distinct().order_by(column).limit(200)
    return [str(value) for value in session.scalars(statement).all()]


def _back(target: str) -> str:
    """Only the alerts page itself is a place to go back to after acting."""
    return target if target.startswith("/alerts") and "//" not in target else "/alerts"


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    db: Db,
    caller: PageCaller,
    class_name: Annotated[str | None, Query(max_length=255)] = None,
    hostname: Annotated[str | None, Query(max_length=255)] = None,
    level: Annotated[AlertLevel | Literal[""] | None, Query()] = None,
    show: Annotated[Shown, Query()] = "unresolved",
    q: Annotated[str | None, Query(max_length=200)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> Response:
    """Alert groups, then the alerts themselves with their backtraces, newest first."""
    which = AlertFilter(
        resolved=RESOLVED[show],
        class_name=class_name or None,
        hostname=hostname or None,
        level=level or None,
        text=q,
    )
    kept = {
        key: value
        for key, value in (
            ("class_name", class_name), ("hostname", hostname), ("level", level), ("q", q),
            ("show", show if show != "unresolved" else None),
        )
        if value
    }  # fmt: skip
    page = alert_page(db, which, limit=PAGE_SIZE, before=before, after=after)
    here = "/alerts" + (f"?{request.url.query}" if request.url.query else "")

    def link(**cursor: int) -> str:
        return "/alerts?" + urlencode({**kept, **cursor})

    return render(
        request,
        "alerts.html",
        caller=caller,
        groups=alert_groups(db, which),
        page=page,
        chosen={"class_name": class_name or "", "hostname": hostname or "",
                "level": level or "", "show": show, "q": q or ""},
        classes=_choices(db, Alert.class_name),
        hosts=_choices(db, Alert.hostname),
        levels=ALERT_LEVELS,
        here=here,
        previous=link(after=page.newer) if page.newer is not None else None,
        next=link(before=page.older) if page.older is not None else None,
    )  # fmt: skip


@router.post("/alerts/resolve")
def resolve_one(
    request: Request,
    db: Db,
    caller: PageAdmin,
    uuid: Annotated[str, Form(min_length=1, max_length=36)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/alerts",
) -> Response:
    """Resolve one alert."""
    check_csrf(request, csrf)
    alert = resolve_alert(db, uuid.strip())
    flash(request, f"Alert {alert.uuid} ({alert.class_name}) is resolved.")
    return RedirectResponse(_back(back), status_code=303)


@router.post("/alerts/resolve-group")
def resolve_group(
    request: Request,
    db: Db,
    caller: PageAdmin,
    class_name: Annotated[str, Form(min_length=1, max_length=255)],
    message: Annotated[str, Form(min_length=1, max_length=100_000)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/alerts",
) -> Response:
    """Resolve every unresolved alert of one class and message."""
    check_csrf(request, csrf)
    count = resolve_alike(db, class_name, message)
    if count == 0:
        raise Conflict(f"no unresolved alert of {class_name} has that message: resolved already?")
    flash(request, f"{count} alert(s) of {class_name} resolved.")
    return RedirectResponse(_back(back), status_code=303)

"""The exports list (``/exports``): filters, text search, keyset pages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from zenodo_export.errors import Rejected
from zenodo_export.store.browse import ExportFilter, count_matching, export_page
from zenodo_export.store.models import EXPORT_STATES, DataExport, ExportState
from zenodo_export.web.api.models import MAX_ID
from zenodo_export.web.context import Db
from zenodo_export.web.pages.render import render
from zenodo_export.web.pages.signin import PageCaller

router = APIRouter()

PAGE_SIZE = 25
"""Exports per page of the list."""


def _day(value: dt.date | None, field: str, *, plus: int = 0) -> dt.datetime | None:
    if value is None:
        return None
    if not dt.date(1900, 1, 1) <= value <= dt.date(9000, 12, 31):
        raise Rejected(f"{field}: {value} is out of range (1900-01-01 to 9000-12-31)")
    return dt.datetime.combine(value + dt.timedelta(days=plus), dt.time(), tzinfo=dt.UTC)


def _types() -> list[str]:
    """The kinds of export there are (the mapped classes: no need to scan the table)."""
    return sorted(str(kind) for kind in DataExport.__mapper__.polymorphic_map)


@router.get("/exports", response_class=HTMLResponse)
def exports_page(
    request: Request,
    db: Db,
    caller: PageCaller,
    state: Annotated[ExportState | Literal[""] | None, Query()] = None,
    name: Annotated[str | None, Query(max_length=255)] = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    created_from: Annotated[dt.date | None, Query()] = None,
    created_to: Annotated[dt.date | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    oldest: bool = False,
) -> Response:
    """A page of exports, newest first, matching the filters; each row links to its page."""
    if created_from and created_to and created_to < created_from:
        raise Rejected(f"created_to ({created_to}) is before created_from ({created_from})")
    which = ExportFilter(
        state=state or None,
        name=(name or "").strip() or None,
        type=(type or "").strip() or None,
        created_from=_day(created_from, "created_from"),
        created_to=_day(created_to, "created_to", plus=1),  # the whole day "to" names
        text=q,
    )
    page = export_page(db, which, limit=PAGE_SIZE, before=before, after=after, oldest=oldest)
    kept = {
        key: value
        for key, value in (
            ("state", state or ""), ("name", name or ""), ("type", type or ""),
            ("created_from", created_from.isoformat() if created_from else ""),
            ("created_to", created_to.isoformat() if created_to else ""), ("q", q or ""),
        )
        if value
    }  # fmt: skip

    def link(**cursor: int | str) -> str:
        return "/exports?" + urlencode({**kept, **cursor})

    return render(
        request,
        "exports.html",
        caller=caller,
        page=page,
        total=count_matching(db, which),
        states=EXPORT_STATES,
        types=_types(),
        chosen={"state": state or "", "name": name or "", "type": type or "", "q": q or "",
                "created_from": kept.get("created_from", ""),
                "created_to": kept.get("created_to", "")},
        first=link() if page.newer is not None else None,
        previous=link(after=page.newer) if page.newer is not None else None,
        next=link(before=page.older) if page.older is not None else None,
        last=link(oldest=1) if page.older is not None else None,
        filtered=bool(kept),
    )  # fmt: skip

"""``/api/v1/alerts``: list and filter alerts, their groups, and resolve one or a group."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from zenodo_export.exports.views import alert_view
from zenodo_export.store import Alert, AlertLevel, resolve_alert
from zenodo_export.store.alerts import resolve_alike
from zenodo_export.store.browse import AlertFilter, alert_groups, alert_page
from zenodo_export.web.access import Viewer
from zenodo_export.web.api.deps import Acting
from zenodo_export.web.api.models import (
    MAX_ID,
    AlertGroupPublic,
    AlertList,
    AlertPublic,
    ResolveAlike,
    ResolvedCount,
)
from zenodo_export.web.api.paging import After, Before, Limit, Oldest, Text, links, text
from zenodo_export.web.context import Db, WebState

router = APIRouter(prefix="/alerts", tags=["alerts"])

Resolved = Annotated[
    Literal["false", "true", "any"],
    Query(description="Unresolved alerts (the default), resolved ones, or both."),
]
ExportRef = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Alerts of this export.")]
Uuid = Annotated[
    str, Path(max_length=36, pattern=r"^[0-9a-fA-F-]+$", description="The alert's uuid.")
]


def public(alert: Alert) -> AlertPublic:
    """Return an alert's answer: its ``--json`` view."""
    return AlertPublic.model_validate(alert_view(alert))


def alert_filter(
    resolved: Resolved = "false",
    class_name: Text = None,
    level: AlertLevel | None = None,
    hostname: Text = None,
    export_id: ExportRef = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in the message.")] = None,
) -> AlertFilter:
    """The filter of an alerts query (its parameters are the list's and the groups'), each
    text checked."""
    return AlertFilter(
        resolved=None if resolved == "any" else resolved == "true",
        class_name=text(class_name, "class_name"),
        level=level,
        hostname=text(hostname, "hostname"),
        export_id=export_id,
        text=text(q, "q"),
    )


Which = Annotated[AlertFilter, Depends(alert_filter)]


@router.get("", summary="List alerts, newest first")
def list_alerts(
    request: Request,
    db: Db,
    _: Viewer,
    which: Which,
    limit: Limit = 50,
    before: Before = None,
    after: After = None,
    oldest: Oldest = False,
) -> AlertList:
    """Alerts matching the filters, one page at a time; follow ``next`` for older ones."""
    page = alert_page(db, which, limit=limit, before=before, after=after, oldest=oldest)
    older, newer = links(request, page)
    return AlertList(items=[public(alert) for alert in page.rows], next=older, previous=newer)


@router.get("/groups", summary="Alerts grouped by class and message")
def groups(
    db: Db,
    _: Viewer,
    which: Which,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertGroupPublic]:
    """Alerts of one class and message counted together, the latest group first."""
    return [
        AlertGroupPublic(
            class_name=g.class_name, message=g.message, count=g.count, latest_at=g.latest_at
        )
        for g in alert_groups(db, which, limit=limit)
    ]


@router.post("/resolve", summary="Resolve every alert of one class and message")
def resolve_group(body: ResolveAlike, web: WebState, _: Acting) -> ResolvedCount:
    """Resolve the unresolved alerts of a group (as on Lagotto's admin page); count them."""
    with web.store.transaction() as session:
        return ResolvedCount(resolved=resolve_alike(session, body.class_name, body.message))


@router.post("/{uuid}/resolve", summary="Resolve one alert")
def resolve_one(uuid: Uuid, web: WebState, _: Acting) -> AlertPublic:
    """Mark the alert resolved (resolving it again changes nothing)."""
    with web.store.transaction() as session:
        return public(resolve_alert(session, uuid))

"""One export's page (``/exports/{id}``) and its actions: retry and cancel (admins only)."""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from zenodo_export.errors import ZenodoExportError
from zenodo_export.exports import waiting
from zenodo_export.exports.service import retry_export
from zenodo_export.exports.undo import cancel_export, discard_draft
from zenodo_export.exports.views import files_kept
from zenodo_export.jobs import queue
from zenodo_export.store import DataExport, Job, get_export, list_alerts
from zenodo_export.web.access import Caller, check_csrf
from zenodo_export.web.api.models import MAX_ID
from zenodo_export.web.context import Db, WebState
from zenodo_export.web.pages.render import flash, render
from zenodo_export.web.pages.signin import PageCaller, page_admin, page_caller
from zenodo_export.web.pages.timeline import NOT_RECORDED, timeline
from zenodo_export.zenodo.factory import client_factory

router = APIRouter()


def acting_admin(request: Request, web: WebState) -> Caller:
    """The signed-in admin, checked in a transaction of its own that ends before the action
    opens its own (on SQLite a transaction holds the one write lock until it ends)."""
    with web.store.transaction() as session:
        return page_admin(page_caller(request, session))


ActingAdmin = Annotated[Caller, Depends(acting_admin)]
ExportId = Annotated[int, Path(ge=1, le=MAX_ID, description="The export's id.")]
Csrf = Annotated[str, Form(max_length=200)]

METADATA = (
    ("title", "Title"),
    ("description", "Description"),
    ("creators", "Creators"),
    ("keywords", "Keywords"),
    ("publication_date", "Publication date"),
    ("version", "Version"),
    ("license", "License"),
    ("communities", "Communities"),
    ("code_repository_url", "Code repository"),
    ("versioning", "Versioning"),
)
"""The fields of ``data`` the page shows, in order, with their labels."""


def _files(export: DataExport) -> list[dict[str, Any]]:
    """Each file of the export: its name, where it is read from, and its upload if done."""
    uploads = export.uploads or {}
    listed = [str(path) for path in export.data.get("files", ())]
    rows = []
    for path in listed:
        name = os.path.basename(path)
        rows.append({"name": name, "source": path, **_upload(uploads.get(name))})
    for name, entry in uploads.items():  # uploaded under a name no longer listed
        if name not in {row["name"] for row in rows}:
            rows.append({"name": name, "source": "", **_upload(entry)})
    return rows


def _upload(entry: Any) -> dict[str, Any]:
    if not isinstance(entry, dict):
        return {"uploaded": False, "size": None, "md5": None, "uploaded_at": None}
    return {
        "uploaded": True,
        "size": entry.get("size"),
        "md5": entry.get("md5"),
        "uploaded_at": entry.get("uploaded_at"),
    }


def _versions(session: Session, export: DataExport) -> list[DataExport]:
    statement = (
        select(DataExport)
        .where(DataExport.type == export.type, DataExport.name == export.name)
        .where(DataExport.id != export.id)
        .order_by(DataExport.id.desc())
        .limit(50)
    )
    return list(session.scalars(statement).all())


def _metadata(export: DataExport) -> list[tuple[str, str]]:
    rows = []
    for key, label in METADATA:
        value = export.data.get(key)
        if value in (None, "", [], ()):
            continue
        rows.append((label, ", ".join(map(str, value)) if isinstance(value, list) else str(value)))
    return rows


@router.get("/exports/{export_id}", response_class=HTMLResponse)
def export_page(request: Request, db: Db, caller: PageCaller, export_id: ExportId) -> Response:
    """Metadata, files, timeline, record, versions, alerts, what it waits for, actions."""
    export = get_export(db, export_id)
    jobs = list(db.scalars(select(Job).where(Job.export_id == export_id).order_by(Job.id)).all())
    alerts = list_alerts(db, include_resolved=True, export_id=export_id, limit=200)
    active = queue.active_job_for_export(db, export_id)
    return render(
        request,
        "export.html",
        caller=caller,
        export=export,
        metadata=_metadata(export),
        files=_files(export),
        kept=files_kept(export.data),
        steps=timeline(export, jobs, list(reversed(alerts))),
        not_recorded=NOT_RECORDED,
        jobs=jobs,
        versions=_versions(db, export),
        alerts=alerts,
        reason=waiting.reason(db, export),
        can_retry=export.state == "failed" or (export.state == "pending" and active is None),
        can_cancel=export.state != "done" and (export.state != "failed" or active is not None),
        live=export.state in ("pending", "processing"),
    )


@router.post("/exports/{export_id}/retry")
def retry(
    request: Request, web: WebState, caller: ActingAdmin, export_id: ExportId, csrf: Csrf = ""
) -> Response:
    """Queue a failed export again, as ``zenodo-export retry`` does."""
    check_csrf(request, csrf)
    job_id = retry_export(web.store, export_id)
    flash(request, f"Export {export_id} is queued again (job {job_id}).")
    return RedirectResponse(f"/exports/{export_id}", status_code=303)


@router.post("/exports/{export_id}/cancel")
def cancel(
    request: Request, web: WebState, caller: ActingAdmin, export_id: ExportId, csrf: Csrf = ""
) -> Response:
    """Stop an export and discard its draft, as ``zenodo-export cancel`` does."""
    check_csrf(request, csrf)
    cancelled = cancel_export(web.store, export_id)
    said = "it stops at its next step" if cancelled.was_running else "it will not run"
    message = f"Export {export_id} is cancelled: {said}."
    if cancelled.draft_id is not None:
        message += " " + _discard(web, cancelled.draft_id)
    flash(request, message)
    return RedirectResponse(f"/exports/{export_id}", status_code=303)


def _discard(web: WebState, draft_id: int) -> str:
    if web.settings.zenodo_token is None:
        return f"Its draft {draft_id} stays on Zenodo (no ZENODO_TOKEN to delete it)."
    try:
        with client_factory(web.settings, store=web.store)() as client:
            return discard_draft(client, draft_id).capitalize() + "."
    except ZenodoExportError as exc:
        return f"Its draft {draft_id} could not be discarded ({exc}): it stays on Zenodo."

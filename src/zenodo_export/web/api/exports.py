"""``/api/v1/exports``: list, show, create, retry, cancel, delete and edit exports.

Every action calls what the CLI's command calls (``exports/service.py``, ``undo.py``,
``edit.py``), so the two behave alike; an answer is the export's ``--json`` view.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from zenodo_export.errors import InvalidExport, NotAllowed, ZenodoExportError
from zenodo_export.exports import waiting
from zenodo_export.exports.edit import edit_export
from zenodo_export.exports.service import create_and_queue, retry_export
from zenodo_export.exports.undo import cancel_export, delete_export, discard_draft
from zenodo_export.exports.views import alert_view, export_view
from zenodo_export.filestore import files_store
from zenodo_export.jobs import queue
from zenodo_export.settings import Settings
from zenodo_export.store import DataExport, Job, Store, get_export
from zenodo_export.store.browse import AlertFilter, ExportFilter, alert_page, count_matching
from zenodo_export.store.browse import export_page as browse_exports
from zenodo_export.store.models import ExportState
from zenodo_export.web.access import Viewer
from zenodo_export.web.api.deps import Acting, ExportId
from zenodo_export.web.api.models import (
    AlertPublic,
    CancelledPublic,
    Deleted,
    Edited,
    ExportCreate,
    ExportDetail,
    ExportEdit,
    ExportList,
    ExportPublic,
    JobPublic,
    Retried,
    VersionPublic,
)
from zenodo_export.web.api.paging import After, Before, Limit, Oldest, Text, links, moment, text
from zenodo_export.web.context import Db, Web, WebState
from zenodo_export.zenodo.factory import client_factory

router = APIRouter(prefix="/exports", tags=["exports"])

Search = Annotated[
    str | None, Query(max_length=200, description="Words in the name, DOI, URL or title.")
]

SHOWN_ALERTS = 100
"""Alerts an export's answer holds (newest first)."""

SHOWN_VERSIONS = 50
"""Other versions of its name an export's answer lists (newest first)."""


def public(export: DataExport) -> ExportPublic:
    """Return an export's answer: its ``--json`` view."""
    return ExportPublic.model_validate(export_view(export))


def read(store: Store, export_id: int) -> ExportPublic:
    """Return an export's answer, read in a transaction of its own (after an action)."""
    with store.transaction() as session:
        return public(get_export(session, export_id))


def export_filter(
    state: ExportState | None,
    name: str | None,
    kind: str | None,
    created_from: dt.datetime | None,
    created_to: dt.datetime | None,
    q: str | None,
) -> ExportFilter:
    """Return the filter of an exports list's query, each text checked."""
    return ExportFilter(
        state=state,
        name=text(name, "name"),
        type=text(kind, "type"),
        created_from=moment(created_from, "created_from"),
        created_to=moment(created_to, "created_to"),
        text=text(q, "q"),
    )


@router.get("", summary="List exports, newest first")
def list_exports(
    request: Request,
    db: Db,
    _: Viewer,
    state: ExportState | None = None,
    name: Text = None,
    kind: Annotated[str | None, Query(alias="type", max_length=64)] = None,
    created_from: Annotated[
        dt.datetime | None, Query(description="Created at or after (UTC unless given).")
    ] = None,
    created_to: Annotated[dt.datetime | None, Query(description="Created before.")] = None,
    q: Search = None,
    limit: Limit = 50,
    before: Before = None,
    after: After = None,
    oldest: Oldest = False,
) -> ExportList:
    """Exports matching the filters, one page at a time; follow ``next`` for older ones."""
    which = export_filter(state, name, kind, created_from, created_to, q)
    page = browse_exports(db, which, limit=limit, before=before, after=after, oldest=oldest)
    older, newer = links(request, page)
    items = [public(export) for export in page.rows]
    return ExportList(items=items, next=older, previous=newer, total=count_matching(db, which))


def job_public(job: Job | None) -> JobPublic | None:
    """Return what a person waiting wants to know of an export's active job."""
    if job is None:
        return None
    queued = job.status == "queued"
    return JobPublic(
        id=job.id,
        kind=job.kind,
        status=job.status,
        queue=job.queue,
        attempts=job.attempts,
        next_attempt_at=job.run_at if queued else None,
        running_on=None if queued else job.locked_by,
        waiting_because=job.last_error or None,
    )


def versions_of(db: Session, export: DataExport) -> list[VersionPublic]:
    """Return the other exports of the export's name and type, newest first."""
    same = ExportFilter(name=export.name, type=export.type)
    rows = browse_exports(db, same, limit=SHOWN_VERSIONS + 1).rows
    return [
        VersionPublic(id=v.id, state=v.state, created_at=v.created_at, url=v.url, doi=v.doi)
        for v in rows
        if v.id != export.id
    ][:SHOWN_VERSIONS]


@router.get("/{export_id}", summary="Show an export")
def show_export(export_id: ExportId, db: Db, _: Viewer) -> ExportDetail:
    """One export with its active job, why it waits, its alerts and its name's versions."""
    export = get_export(db, export_id)
    alerts = alert_page(db, AlertFilter(resolved=None, export_id=export_id), limit=SHOWN_ALERTS)
    return ExportDetail.model_validate(
        {
            **export_view(export),
            "job": job_public(queue.active_job_for_export(db, export_id)),
            "waiting": waiting.reason(db, export),
            "alerts": [AlertPublic.model_validate(alert_view(a)) for a in alerts.rows],
            "versions": versions_of(db, export),
        }
    )


def allowed_file(settings: Settings, given: str, index: int) -> str:
    """Return the real path of a file the server may export; ``InvalidExport`` naming it.

    The path must be absolute and, its symlinks followed, lie in a folder of
    ``ZENODO_EXPORT_WEB_FILES_DIRS``.
    """
    field = f"files[{index}]"
    if "\x00" in given or not Path(given).is_absolute():
        raise InvalidExport(field, f"{given[:200]!r} must be an absolute path")
    real = Path(given).resolve()
    if not any(real.is_relative_to(folder) for folder in settings.web_files_dirs):
        folders = ", ".join(str(folder) for folder in settings.web_files_dirs)
        raise InvalidExport(
            field, f"{given[:200]} is not in a folder the server exports from ({folders})"
        )
    return str(real)


def creation_attributes(settings: Settings, body: ExportCreate | dict[str, Any]) -> dict[str, Any]:
    """Return an export's attributes with the ``export`` command's defaults filled in."""
    given = body.model_dump() if isinstance(body, ExportCreate) else body
    return {
        **given,
        "creators": given.get("creators") or ([settings.creator] if settings.creator else []),
        "publication_date": given.get("publication_date") or dt.date.today().isoformat(),
        "code_repository_url": given.get("code_repository_url") or settings.github_url or "",
        "license": given.get("license") or settings.license,
        "communities": given.get("communities") or [],
    }


@router.post("", status_code=201, summary="Create an export of files on the server")
def create_export(body: ExportCreate, web: WebState, _: Acting) -> ExportPublic:
    """Stage files that lie under ``ZENODO_EXPORT_WEB_FILES_DIRS`` and queue their export."""
    settings = web.settings
    if not settings.web_files_dirs:
        raise NotAllowed(
            "exporting files from the server is off: set ZENODO_EXPORT_WEB_FILES_DIRS to the "
            "folders it may read, or upload the files (POST /api/v1/exports/upload)",
            signed_in=True,
        )
    files = [allowed_file(settings, path, index) for index, path in enumerate(body.files)]
    attributes = {**creation_attributes(settings, body), "files": files}
    export_id = create_and_queue(web.store, staging=files_store(settings), **attributes)
    return read(web.store, export_id)


@router.post("/{export_id}/retry", summary="Queue a failed export again")
def retry(export_id: ExportId, web: WebState, _: Acting) -> Retried:
    """Queue the export again; it resumes from where it stopped (409 once published)."""
    job_id = retry_export(web.store, export_id)
    return Retried(job_id=job_id, export=read(web.store, export_id))


@router.post("/{export_id}/cancel", summary="Cancel a queued or running export")
def cancel(export_id: ExportId, web: WebState, _: Acting) -> CancelledPublic:
    """Stop the export and discard its Zenodo draft; a published record is never touched."""
    cancelled = cancel_export(web.store, export_id)
    draft = None
    if cancelled.draft_id is not None:
        draft = discarded(web, cancelled.draft_id)
    return CancelledPublic(
        was_running=cancelled.was_running,
        jobs_stopped=cancelled.jobs,
        draft=draft,
        export=read(web.store, export_id),
    )


def discarded(web: Web, draft_id: int) -> str:
    """Discard a cancelled export's draft as ``zenodo-export cancel`` does; say what happened."""
    settings = web.settings
    if settings.zenodo_token is None:
        return f"draft {draft_id} stays on Zenodo (no ZENODO_TOKEN to delete it)"
    try:
        with client_factory(settings, store=web.store)() as client:
            return discard_draft(client, draft_id)
    except ZenodoExportError as exc:
        return f"draft {draft_id} stays on Zenodo: {exc}"


@router.delete("/{export_id}", summary="Delete an export that never reached Zenodo")
def delete(export_id: ExportId, web: WebState, _: Acting) -> Deleted:
    """Delete the export, its jobs and its staged files (409 once it reached Zenodo)."""
    freed = delete_export(web.store, files_store(web.settings), export_id)
    return Deleted(id=export_id, freed_bytes=freed)


@router.patch("/{export_id}", summary="Edit a queued export's metadata")
def edit(export_id: ExportId, body: ExportEdit, web: WebState, _: Acting) -> Edited:
    """Change the metadata of an export no worker has sent to Zenodo yet (409 after)."""
    changed = edit_export(web.store, export_id, body.model_dump(exclude_unset=True))
    return Edited(changed=changed, export=read(web.store, export_id))

"""Create an API snapshot and queue its job, in one transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from zenodo_export.clock import utcnow
from zenodo_export.jobs import queue
from zenodo_export.settings import Settings
from zenodo_export.snapshots.crawl import KIND
from zenodo_export.snapshots.options import (
    SnapshotOptions,
    SnapshotRequest,
    check_upload,
    snapshot_directory,
)
from zenodo_export.snapshots.pagination import Cursor, snapshot_name
from zenodo_export.store import ApiSnapshot, Store


def create_snapshot(
    store: Store, settings: Settings, request: SnapshotRequest, *, today: dt.date | None = None
) -> int:
    """Create the ApiSnapshot of a (validated) request and queue its job; return its id.

    With ``upload``, raises ``InvalidExport`` when ``CREATOR`` or ``GITHUB_URL`` is not set
    (they are the record's creator and code link). Crawls nothing.
    """
    creators = creators_of(settings, request)
    date = today or utcnow().date()
    with store.transaction() as session:
        return add_snapshot(session, settings, request, date=date, creators=creators)


def creators_of(settings: Settings, request: SnapshotRequest) -> tuple[str, ...]:
    """Return the record's creators (``CREATOR``); refuse an upload that lacks them."""
    creators = (settings.creator,) if settings.creator else ()
    if request.upload:
        check_upload(creators, settings.github_url)
    return creators


def add_snapshot(
    session: Session,
    settings: Settings,
    request: SnapshotRequest,
    *,
    date: dt.date,
    creators: tuple[str, ...],
) -> int:
    """Add the ApiSnapshot and queue its job in the caller's transaction; return its id."""
    snapshot = ApiSnapshot(name=snapshot_name(request.url), url=request.url, data={})
    session.add(snapshot)
    session.flush()
    directory = snapshot_directory(settings.data_dir.expanduser().absolute(), date, snapshot.id)
    options = SnapshotOptions.of(
        request,
        date=date,
        directory=directory,
        creators=creators,
        code_repository_url=settings.github_url,
    )
    cursor = Cursor(next_page=request.start_page).to_data()
    snapshot.data = {**options.to_data(), "cursor": cursor}
    queue.enqueue(session, KIND, export_id=snapshot.id)
    return snapshot.id

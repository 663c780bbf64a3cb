"""Create an API snapshot and queue its job, in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from zenodo_export.settings import Settings
from zenodo_export.snapshots.crawl import KIND
from zenodo_export.snapshots.options import (
    CONCURRENCY,
    PAGES_PER_JOB,
    SnapshotOptions,
    check_options,
    check_upload,
    check_url,
    snapshot_directory,
)
from zenodo_export.snapshots.pagination import Cursor, snapshot_name
from zenodo_export.store import ApiSnapshot, Store, jobs
from zenodo_export.store.types import utcnow


def create_snapshot(
    store: Store,
    settings: Settings,
    url: str,
    *,
    pages_per_job: int = PAGES_PER_JOB,
    start_page: int = 1,
    stop_page: int | None = None,
    concurrency: int = CONCURRENCY,
    upload: bool = False,
    benchmark: bool = False,
    today: dt.date | None = None,
) -> int:
    """Validate, create the ApiSnapshot and queue its job; return its id. Crawl nothing.

    Raises ``InvalidExport`` naming a bad URL or option; with ``upload``, also when
    ``CREATOR`` or ``GITHUB_URL`` is not set (they are the record's creator and code link).
    """
    check_url(url)
    check_options(
        pages_per_job=pages_per_job,
        start_page=start_page,
        stop_page=stop_page,
        concurrency=concurrency,
    )
    creators = (settings.creator,) if settings.creator else ()
    if upload:
        check_upload(creators, settings.github_url)
    date = today or utcnow().date()
    request = SnapshotRequest(
        url,
        pages_per_job=pages_per_job,
        start_page=start_page,
        stop_page=stop_page,
        concurrency=concurrency,
        upload=upload,
        benchmark=benchmark,
    )
    with store.transaction() as session:
        return add_snapshot(session, settings, request, date=date, creators=creators)


@dataclass(frozen=True)
class SnapshotRequest:
    """What one snapshot is asked to do: the command's options, or a config entry's."""

    url: str
    pages_per_job: int = PAGES_PER_JOB
    start_page: int = 1
    stop_page: int | None = None
    concurrency: int = CONCURRENCY
    upload: bool = False
    benchmark: bool = False


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
    options = SnapshotOptions(
        url=request.url,
        date=date.isoformat(),
        directory=str(directory),
        pages_per_job=request.pages_per_job,
        start_page=request.start_page,
        stop_page=request.stop_page,
        concurrency=request.concurrency,
        benchmark=request.benchmark,
        upload=request.upload,
        creators=creators,
        code_repository_url=settings.github_url,
    )
    cursor = Cursor(next_page=request.start_page).to_data()
    snapshot.data = {**options.to_data(), "cursor": cursor}
    jobs.enqueue(session, KIND, export_id=snapshot.id)
    return snapshot.id

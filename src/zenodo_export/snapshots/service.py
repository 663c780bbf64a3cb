"""Create an API snapshot and queue its job, in one transaction."""

from __future__ import annotations

import datetime as dt

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
    with store.transaction() as session:
        return add_snapshot(
            session,
            settings,
            url,
            date=date,
            creators=creators,
            pages_per_job=pages_per_job,
            start_page=start_page,
            stop_page=stop_page,
            concurrency=concurrency,
            upload=upload,
            benchmark=benchmark,
        )


def add_snapshot(
    session: Session,
    settings: Settings,
    url: str,
    *,
    date: dt.date,
    creators: tuple[str, ...],
    pages_per_job: int,
    start_page: int,
    stop_page: int | None,
    concurrency: int,
    upload: bool,
    benchmark: bool,
) -> int:
    """Add the ApiSnapshot and queue its job in the caller's transaction; return its id."""
    snapshot = ApiSnapshot(name=snapshot_name(url), url=url, data={})
    session.add(snapshot)
    session.flush()
    directory = snapshot_directory(settings.data_dir.expanduser().absolute(), date, snapshot.id)
    options = SnapshotOptions(
        url=url,
        date=date.isoformat(),
        directory=str(directory),
        pages_per_job=pages_per_job,
        start_page=start_page,
        stop_page=stop_page,
        concurrency=concurrency,
        benchmark=benchmark,
        upload=upload,
        creators=creators,
        code_repository_url=settings.github_url,
    )
    snapshot.data = {**options.to_data(), "cursor": Cursor(next_page=start_page).to_data()}
    jobs.enqueue(session, KIND, export_id=snapshot.id)
    return snapshot.id

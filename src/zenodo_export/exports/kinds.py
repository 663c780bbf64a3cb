"""The export feature's job kinds: ``data_export`` (the seed's ``DataExportJob``) and ``janitor``.

``register`` adds both to a registry. A ``data_export`` job runs one ``ExportRun``; when it
fails for good, its export is marked failed in the same transaction that fails the job (never
a done export). The janitor job deletes orphan drafts, removes from the files store what no
export needs any more (``retention.py``), and queues its own next run.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from zenodo_export.clock import utcnow
from zenodo_export.exports.janitor import run_janitor
from zenodo_export.exports.retention import sweep_store
from zenodo_export.exports.run import ExportRun
from zenodo_export.filestore import files_store
from zenodo_export.jobs import queue
from zenodo_export.jobs.context import JobContext
from zenodo_export.jobs.queue import ClaimedJob
from zenodo_export.jobs.registry import JobKind, Registry
from zenodo_export.settings import Settings
from zenodo_export.store import DataExport, Job, Store, get_export, mark_failed, note_error
from zenodo_export.zenodo.client import ZenodoClient
from zenodo_export.zenodo.factory import client_factory

__all__ = [
    "EXPORT_KIND",
    "JANITOR_KIND",
    "DataExportJob",
    "export_failed",
    "export_retried",
    "queue_of",
    "register",
    "schedule_janitor",
]

log = logging.getLogger("zenodo_export.exports")

EXPORT_KIND = "data_export"
"""The job that archives one export."""

JANITOR_KIND = "janitor"
"""The periodic job that deletes this installation's orphan drafts."""


class DataExportJob:
    """The job that archives one export (the seed's ``DataExportJob``)."""

    KIND = EXPORT_KIND

    @classmethod
    def perform_later(cls, session: Session, *, id: int) -> Job:
        """Queue the export's job in the caller's transaction; ``NotFound`` without the export.

        An export whose files are read in place goes to its host's queue: only a worker of
        the machine that has the files takes it.
        """
        return queue.enqueue(
            session, cls.KIND, export_id=id, queue=queue_of(get_export(session, id))
        )


def queue_of(export: DataExport) -> str:
    """Return the queue of an export's job: its host's when its files are read in place."""
    host = (export.data or {}).get("host")
    return queue.host_queue(str(host)) if host else queue.DEFAULT_QUEUE


def zenodo_client(context: JobContext) -> ZenodoClient:
    """Return this worker thread's Zenodo client (built once, paced through the store)."""
    return context.resources.get("zenodo", client_factory(context.settings, store=context.store))


def perform_export(context: JobContext) -> None:
    """Run the export of the job as far as it goes."""
    assert context.job.export_id is not None
    settings = context.settings
    ExportRun(
        context.store,
        zenodo_client(context),
        context.job.export_id,
        lease=context.lease,
        progress=context.services.get("progress"),
        versioning=settings.versioning,
        settle_seconds=settings.settle_seconds,
        defer_seconds=settings.defer_seconds,
        files=context.resources.get("files", lambda: files_store(settings)),
    ).run()


def export_failed(session: Session, job: ClaimedJob, exc: BaseException, message: str) -> None:
    """Mark the job's export failed (unless it is done), in the job's failing transaction."""
    if job.export_id is not None:
        mark_failed(session, job.export_id, message, attempts=job.attempts)


def export_retried(session: Session, job: ClaimedJob, exc: BaseException, message: str) -> None:
    """Remember the attempt's error on the export; it runs again later."""
    if job.export_id is not None:
        note_error(get_export(session, job.export_id), message, attempts=job.attempts)


def perform_janitor(context: JobContext) -> None:
    """Delete orphan drafts, then queue the next janitor run."""
    report = run_janitor(
        context.store,
        zenodo_client(context),
        grace_seconds=context.settings.janitor_grace_seconds,
    )
    log.info(
        "janitor: %d draft(s) seen, %d orphan(s) deleted",
        report.drafts_seen,
        len(report.orphans),
    )
    files = context.resources.get("files", lambda: files_store(context.settings))
    swept = sweep_store(
        context.store, files, retention_days=context.settings.storage_retention_days
    )
    log.info(
        "janitor: files store %s: %d byte(s) freed (%d export(s) past retention, %d orphan(s))",
        files.shown,
        swept.bytes_freed,
        swept.exports,
        swept.orphans,
    )
    with context.transaction() as session:
        queue.enqueue(session, JANITOR_KIND, run_at=_next_janitor_run(context.settings))


def _next_janitor_run(settings: Settings) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=settings.janitor_interval_seconds)


def schedule_janitor(store: Store, settings: Settings) -> None:
    """Queue the next janitor run one interval from now, unless one is queued or running."""
    with store.transaction() as session:
        queue.enqueue_once(session, JANITOR_KIND, run_at=_next_janitor_run(settings))


def register(registry: Registry) -> None:
    """Add the export feature's job kinds to ``registry``."""
    registry.add(
        JobKind(
            EXPORT_KIND,
            perform_export,
            on_failed=export_failed,
            on_retry=export_retried,
            needs_export=True,
        )
    )
    registry.add(JobKind(JANITOR_KIND, perform_janitor))

"""Use cases on exports that the CLI and the web API share: create and queue, retry."""

from __future__ import annotations

from typing import Any

from zenodo_export.errors import Conflict
from zenodo_export.exports.kinds import DataExportJob
from zenodo_export.jobs import queue
from zenodo_export.store import Store, ZenodoDataExport, get_export, transition


def create_and_queue(store: Store, **attributes: Any) -> int:
    """Create a ZenodoDataExport and queue its job in ONE transaction; return its id.

    A crash can never leave a created export without its job.
    """
    with store.transaction() as session:
        export = ZenodoDataExport.create(session, **attributes)
        DataExportJob.perform_later(session, id=export.id)
        return export.id


def job_kind_of(export_type: str) -> str:
    """Return the kind of job that runs an export of this type."""
    if export_type == "ApiSnapshot":
        from zenodo_export.snapshots.crawl import KIND

        return KIND
    return DataExportJob.KIND


def retry_export(store: Store, export_id: int) -> int:
    """Queue a failed (or stuck pending) export again; it resumes from where it stopped.

    The export reads ``pending`` until a worker starts it again; its alerts and attempt count
    stay as history. Returns the job id.
    """
    with store.transaction() as session:
        export = get_export(session, export_id)
        if export.state == "done":
            raise Conflict(f"export {export_id} is already done: {export.url}")
        active = queue.active_job_for_export(session, export_id)
        if active is not None and export.state != "failed":
            return active.id
        if export.state == "failed":
            transition(export, "retry")
        job = queue.enqueue(session, job_kind_of(export.type), export_id=export_id)
        session.flush()
        return job.id

"""Use cases on exports that the CLI and the web API share: create and queue, retry."""

from __future__ import annotations

from typing import Any

from zenodo_export.errors import Conflict
from zenodo_export.exports.kinds import DataExportJob, queue_of
from zenodo_export.exports.spec import parse_spec
from zenodo_export.exports.staging import stage_files
from zenodo_export.filestore import FilesStore
from zenodo_export.jobs import queue
from zenodo_export.store import Store, ZenodoDataExport, get_export, transition
from zenodo_export.store.models import with_staged


def create_and_queue(store: Store, *, staging: FilesStore | None = None, **attributes: Any) -> int:
    """Create a ZenodoDataExport and queue its job in ONE transaction; return its id.

    With ``staging`` (the files store) the files are checked and staged first, so that any
    worker can upload them; without, they are read in place by a worker of this machine. The
    attributes are validated before anything is staged. A crash can never leave a created
    export without its job, nor queue an export whose files are not all staged.
    """
    if staging is not None:
        spec = parse_spec(with_staged(attributes))  # a bad field is named before any copy
        attributes = {**attributes, "files": stage_files(staging, spec.files)}
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
        job = queue.enqueue(
            session, job_kind_of(export.type), export_id=export_id, queue=queue_of(export)
        )
        session.flush()
        return job.id

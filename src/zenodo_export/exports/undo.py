"""Undoing what has not reached a record: cancel an export, delete one that never left.

* ``cancel_export``: a queued, waiting or running export (or snapshot) fails now with
  "cancelled by the user"; a running job loses its lease and its worker stops at its next
  heartbeat or write, writing nothing (the fence of ``jobs.queue``). Its draft, if it has
  one, is then discarded by ``discard_draft``; a published record is never touched: a done
  export cannot be cancelled, and a deposition found published meanwhile is kept.
* ``delete_export``: an export that never reached Zenodo (no deposition) is removed with its
  jobs; its staged files go with it unless another export holds the same content. Its alerts
  stay as history (their export id cleared).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from zenodo_export.errors import Conflict
from zenodo_export.filestore import FilesStore
from zenodo_export.jobs import queue
from zenodo_export.store import DataExport, Store, get_export, mark_failed
from zenodo_export.zenodo.client import ZenodoClient

CANCELLED = "cancelled by the user"
"""The error a cancelled export fails with (``retry`` queues it again)."""


@dataclass(frozen=True)
class Cancelled:
    """What cancelling changed: the export, its draft to discard, the jobs stopped."""

    export_id: int
    draft_id: int | None
    jobs: int
    was_running: bool


def cancel_export(store: Store, export_id: int) -> Cancelled:
    """Fail the export and its jobs now; ``Conflict`` if it is published or already over."""
    with store.transaction() as session:
        export = get_export(session, export_id)
        active = queue.active_job_for_export(session, export_id)
        if export.state == "done":
            raise Conflict(f"export {export_id} is published ({export.url}): it stays")
        if export.state == "failed" and active is None:
            raise Conflict(f"export {export_id} has failed already: nothing to cancel")
        running = active is not None and active.status == "running"
        jobs = queue.cancel_in(session, export_id, CANCELLED)
        mark_failed(session, export_id, CANCELLED, attempts=export.attempts)
        return Cancelled(export_id, export.deposition_id, jobs, running)


def discard_draft(client: ZenodoClient, deposition_id: int) -> str:
    """Delete a cancelled export's draft unless it was published; say what was done."""
    deposition = client.get_deposition(deposition_id)
    if deposition.is_published:
        return f"deposition {deposition_id} was published meanwhile: the record stays"
    client.delete_deposition(deposition_id)
    return f"draft {deposition_id} discarded"


def delete_export(store: Store, files: FilesStore, export_id: int) -> int:
    """Delete an export that never reached Zenodo; return the bytes of staged files removed."""
    with store.transaction() as session:
        export = get_export(session, export_id)
        _check_deletable(session, export)
        keys = {entry["key"]: int(entry["size"]) for entry in export.data.get("staged", ())}
        queue.delete_jobs_in(session, export_id)
        session.delete(export)
        session.flush()
        held = _held_keys(session)
    freed = {key: size for key, size in keys.items() if key not in held}
    for key in freed:
        files.delete(key)
    return sum(freed.values())


def _check_deletable(session: Session, export: DataExport) -> None:
    if export.deposition_id is not None or export.record_id is not None:
        raise Conflict(
            f"export {export.id} reached Zenodo (deposition {export.deposition_id}): it is "
            "history and stays; `zenodo-export cancel` stops it if it still runs"
        )
    active = queue.active_job_for_export(session, export.id)
    if active is not None and active.status == "running":
        raise Conflict(f"export {export.id} is running: cancel it first")


def _held_keys(session: Session) -> set[str]:
    return {
        entry["key"]
        for data in session.scalars(select(DataExport.data)).all()
        for entry in (data or {}).get("staged", ())
    }

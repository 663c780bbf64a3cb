"""Exports: every change of an export's state, and the queries that read exports.

An export's state is derived from three timestamps (as Lagotto does) and changes only through
``transition`` here; no other module sets them. The diagram (``docs/architecture.md`` draws the
same one, and a test compares the two)::

    [*] --> pending : create
    pending --> processing : start
    processing --> done : finish
    pending --> failed : fail
    processing --> failed : fail
    failed --> pending : retry

``done`` is final: a finished export is never marked failed, by anyone (``fail`` on it changes
nothing and returns False). ``start`` on a processing export and ``finish`` on a done one
change nothing (a resumed attempt). A failure keeps ``started_exporting_at`` (when the attempt
began); a retry clears it with ``failed_at``, so the export reads ``pending`` until a worker
starts it again. Writers pass a session opened by the job's lease (``JobContext.transaction``)
so that a worker that lost its job writes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from zenodo_export.clock import utcnow
from zenodo_export.errors import Conflict, NotFound
from zenodo_export.store.models import ACTIVE_JOB_STATUSES, DataExport, ExportState, Job

Event = Literal["start", "finish", "fail", "retry"]

TRANSITIONS: dict[tuple[ExportState, Event], ExportState] = {
    ("pending", "start"): "processing",
    ("processing", "finish"): "done",
    ("pending", "fail"): "failed",
    ("processing", "fail"): "failed",
    ("failed", "retry"): "pending",
}
"""Every allowed change of state: (from, event) -> to."""

UNCHANGED: frozenset[tuple[ExportState, Event]] = frozenset(
    {
        ("processing", "start"),
        ("done", "finish"),
        ("done", "fail"),
        ("failed", "fail"),
        ("pending", "retry"),
    }
)
"""Events that leave the state as it is (resumed attempts; ``fail`` on a done export)."""


def transition(export: DataExport, event: Event) -> bool:
    """Apply ``event`` to ``export``; True if its state changed.

    ``Conflict`` for an event its state does not allow (``start`` on a done export, say).
    """
    state: ExportState = export.state
    if (state, event) in UNCHANGED:
        return False
    target = TRANSITIONS.get((state, event))
    if target is None:
        raise Conflict(f"export {export.id} is {state}: it cannot {event}")
    now = utcnow()
    if event == "start":
        export.started_exporting_at = now
    elif event == "finish":
        export.finished_exporting_at = now
        export.failed_at = None
        export.last_error = None
    elif event == "fail":
        export.failed_at = now
    else:
        export.failed_at = None
        export.started_exporting_at = None
    assert export.state == target, (export.id, state, event, export.state)
    return True


def mark_failed(session: Session, export_id: int, message: str, *, attempts: int) -> bool:
    """Mark the export failed with ``message``; False (and no change) if it is done already."""
    export = get_export(session, export_id)
    if export.state == "done":
        return False
    transition(export, "fail")
    note_error(export, message, attempts=attempts)
    return True


def note_error(export: DataExport, message: str, *, attempts: int) -> None:
    """Remember an attempt's error and the attempt count (the state does not change)."""
    export.last_error = message
    export.attempts = attempts


def get_export(session: Session, export_id: int) -> DataExport:
    """Return the export with this id, as its own subclass; ``NotFound`` if there is none."""
    export = session.get(DataExport, export_id)
    if export is None:
        raise NotFound(f"export {export_id} does not exist")
    return export


def _conditions(state: ExportState | None, name: str | None) -> list[ColumnElement[bool]]:
    conditions = []
    if state is not None:
        conditions.append(DataExport.state == state)
    if name is not None:
        conditions.append(DataExport.name == name)
    return conditions


def list_exports(
    session: Session,
    *,
    state: ExportState | None = None,
    name: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[DataExport]:
    """Return exports newest first, optionally only those in ``state`` or named ``name``."""
    statement = (
        select(DataExport)
        .where(*_conditions(state, name))
        .order_by(DataExport.created_at.desc(), DataExport.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(statement).all())


def count_exports(session: Session, state: ExportState | None = None) -> int:
    """Count the exports, optionally only those in ``state``."""
    statement = select(func.count(DataExport.id)).where(*_conditions(state, None))
    return int(session.scalar(statement) or 0)


def previous_version(session: Session, export: DataExport) -> DataExport | None:
    """Return the newest other finished export with the same name and type, as Lagotto does.

    Unfinished exports never count, nor do failed ones (a done export is never failed).
    """
    statement = (
        select(DataExport)
        .where(
            DataExport.type == export.type,
            DataExport.name == export.name,
            DataExport.id != export.id,
            DataExport.state == "done",
        )
        .order_by(DataExport.finished_exporting_at.desc(), DataExport.id.desc())
        .limit(1)
    )
    return session.scalars(statement).first()


def earlier_in_progress(session: Session, export: DataExport) -> DataExport | None:
    """Return an earlier export of the same name and type still queued or running, if any.

    Versions of one name are published in order: a later export waits for this one.
    """
    active = select(Job.id).where(
        Job.export_id == DataExport.id, Job.status.in_(ACTIVE_JOB_STATUSES)
    )
    statement = (
        select(DataExport)
        .where(
            DataExport.type == export.type,
            DataExport.name == export.name,
            DataExport.id < export.id,
            DataExport.state.in_(("pending", "processing")),
            active.exists(),
        )
        .order_by(DataExport.id)
        .limit(1)
    )
    return session.scalars(statement).first()


def owner_of_deposition(session: Session, deposition_id: int) -> DataExport | None:
    """Return the export that stored this deposition id, if any."""
    statement = select(DataExport).where(DataExport.deposition_id == deposition_id).limit(1)
    return session.scalars(statement).first()


def exports_by_key(session: Session, keys: Collection[str]) -> dict[str, DataExport]:
    """Return the exports whose export key is among ``keys``, by key."""
    if not keys:
        return {}
    statement = select(DataExport).where(DataExport.export_key.in_(list(keys)))
    return {export.export_key: export for export in session.scalars(statement)}

"""Reading exports: by id, by state and name, and the previous version of one."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from zenodo_export.errors import NotFound
from zenodo_export.store.models import ACTIVE_JOB_STATUSES, DataExport, ExportState, Job


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

    Unfinished exports never count, nor do failed ones (Lagotto clears ``finished_exporting_at``
    on failure; we keep it, so ``failed_at`` is checked too).
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

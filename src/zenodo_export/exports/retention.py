"""Retention: files leave the files store once no export can need them any more.

An export's staged files are kept while it may still run (pending, processing, or failed with
a job still queued or running), and for ``ZENODO_EXPORT_STORAGE_RETENTION_DAYS`` after it was
published or failed for good, so that a retry can still use them. Content is shared (one key
per content): a key is removed only once every export holding it is past its retention, and
only when it was itself written longer ago than that (staging content already stored
refreshes its time, so a sweep never removes what a new export just staged). The export
notes ``staged_removed_at``; a retry after that fails, naming the missing file.

Also removed once past the retention: the part files of a snapshot failed for good, and blobs
no export holds (a command that died between staging and its transaction). Temporary objects
of an interrupted write go after ``TMP_GRACE_SECONDS``.

``plan_sweep`` decides (pure); ``sweep_store`` reads the exports, deletes, and notes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy import select

from zenodo_export.clock import utcnow
from zenodo_export.filestore import FilesStore
from zenodo_export.jobs import queue
from zenodo_export.store import DataExport, Store

TMP_GRACE_SECONDS = 24 * 3600.0
"""Age after which a temporary object (an interrupted write) is removed."""


@dataclass(frozen=True)
class Holder:
    """An export holding staged files: their keys and sizes, and since when it is over."""

    export_id: int
    keys: Mapping[str, int]
    over_since: dt.datetime | None  # None while the export may still run
    removed: bool = False
    snapshot: bool = False


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep removes: the exports whose files go, and the keys to delete."""

    expired: tuple[int, ...] = ()
    keys: Mapping[str, int] = field(default_factory=dict)
    snapshot_parts: tuple[int, ...] = ()


@dataclass(frozen=True)
class SweepReport:
    """What a sweep removed (or would remove, in a dry run)."""

    exports: int = 0
    files: int = 0
    bytes_freed: int = 0
    orphans: int = 0
    temporary: int = 0


def plan_sweep(
    holders: Iterable[Holder], *, now: dt.datetime, retention: dt.timedelta
) -> SweepPlan:
    """Return which exports are past their retention and which keys nobody else holds."""
    holders = list(holders)
    expired = [
        h
        for h in holders
        if not h.removed and h.over_since is not None and h.over_since + retention <= now
    ]
    expired_ids = {h.export_id for h in expired}
    needed = {
        key for h in holders if h.export_id not in expired_ids and not h.removed for key in h.keys
    }
    keys = {key: size for h in expired for key, size in h.keys.items() if key not in needed}
    return SweepPlan(
        expired=tuple(sorted(expired_ids)),
        keys=keys,
        snapshot_parts=tuple(sorted(h.export_id for h in expired if h.snapshot)),
    )


def _over_since(export: DataExport, active: bool) -> dt.datetime | None:
    if export.state == "done":
        return export.finished_exporting_at
    if export.state == "failed" and not active:
        return export.failed_at
    return None


def holders_of(store: Store) -> list[Holder]:
    """Return every export holding staged files or snapshot parts, as the sweep sees it."""
    found = []
    with store.transaction() as session:
        for export in session.scalars(select(DataExport)).all():
            data = export.data or {}
            staged = data.get("staged") or ()
            snapshot = export.type == "ApiSnapshot" and export.state == "failed"
            if not staged and not snapshot:
                continue
            active = queue.active_job_for_export(session, export.id) is not None
            found.append(
                Holder(
                    export_id=export.id,
                    keys={entry["key"]: int(entry["size"]) for entry in staged},
                    over_since=_over_since(export, active),
                    removed="staged_removed_at" in data,
                    snapshot=snapshot,
                )
            )
    return found


def sweep_store(
    store: Store,
    files: FilesStore,
    *,
    retention_days: float,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> SweepReport:
    """Remove what no export needs any more (see the module); return what was removed."""
    now = now or utcnow()
    retention = dt.timedelta(days=retention_days)
    holders = holders_of(store)
    plan = plan_sweep(holders, now=now, retention=retention)
    held = {key for h in holders for key in h.keys}
    # Listed after the exports were read: content staged again since (its time refreshed)
    # is not old enough to go, even when the export that held it before is.
    aged = files.aged_listing("blobs")
    old = {key for key, (_, modified) in aged.items() if _older(modified, retention, now)}
    plan = replace(plan, keys={key: size for key, size in plan.keys.items() if key in old})
    orphans = {key: size for key, (size, _) in aged.items() if key not in held and key in old}
    grace = dt.timedelta(seconds=TMP_GRACE_SECONDS)
    temporary = {
        key: size
        for key, (size, modified) in files.aged_listing("tmp").items()
        if _older(modified, grace, now)
    }
    report = SweepReport(
        exports=len(plan.expired),
        files=len(plan.keys),
        bytes_freed=sum(plan.keys.values()) + sum(orphans.values()) + sum(temporary.values()),
        orphans=len(orphans),
        temporary=len(temporary),
    )
    if dry_run:
        return report
    for key in [*plan.keys, *orphans, *temporary]:
        files.delete(key)
    for snapshot_id in plan.snapshot_parts:
        files.delete_folder(f"snapshots/{snapshot_id}")
    _note_removed(store, plan.expired, now)
    return report


def _older(modified: dt.datetime | None, age: dt.timedelta, now: dt.datetime) -> bool:
    return modified is not None and modified + age <= now


def _note_removed(store: Store, export_ids: Iterable[int], now: dt.datetime) -> None:
    with store.transaction() as session:
        for export_id in export_ids:
            export = session.get(DataExport, export_id)
            if export is not None:
                export.data = {**(export.data or {}), "staged_removed_at": now.isoformat()}

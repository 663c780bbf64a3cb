"""What the files store holds: by area, and by what the exports holding it still need."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from zenodo_export.clock import utcnow
from zenodo_export.exports.retention import holders_of, plan_sweep
from zenodo_export.filestore import FilesStore
from zenodo_export.store import Store

AREAS = ("blobs", "snapshots", "tmp")
"""The folders of a store: staged files, snapshot parts, interrupted writes."""


@dataclass(frozen=True)
class Usage:
    """Objects and bytes per area, and how the staged ones are held."""

    store: str
    areas: dict[str, tuple[int, int]]
    held_by_unfinished: int  # exports that may still run
    within_retention: int  # exports over, their files kept for the retention period
    removable_now: int  # bytes a sweep would free now

    def to_data(self) -> dict[str, Any]:
        """Return the usage as JSON-ready data."""
        data = asdict(self)
        data["areas"] = {name: {"files": n, "bytes": b} for name, (n, b) in self.areas.items()}
        return data


def store_usage(store: Store, files: FilesStore, *, retention_days: float) -> Usage:
    """Return what ``files`` holds and how much of it a sweep would remove now."""
    areas = {}
    for area in AREAS:
        listed = files.listing(area)
        areas[area] = (len(listed), sum(listed.values()))
    holders = holders_of(store)
    plan = plan_sweep(holders, now=utcnow(), retention=dt.timedelta(days=retention_days))
    staged = [h for h in holders if h.keys and not h.removed]
    expired = set(plan.expired)
    return Usage(
        store=files.shown,
        areas=areas,
        held_by_unfinished=sum(1 for h in staged if h.over_since is None),
        within_retention=sum(
            1 for h in staged if h.over_since is not None and h.export_id not in expired
        ),
        removable_now=sum(plan.keys.values()),
    )

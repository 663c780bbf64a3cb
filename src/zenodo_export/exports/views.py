"""The public, stable JSON shape of exports and alerts (CLI ``--json`` and the web API)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from zenodo_export.store import Alert, DataExport

EXPORT_FIELDS = (
    "id",
    "type",
    "name",
    "state",
    "url",
    "doi",
    "concept_doi",
    "record_id",
    "concept_rec_id",
    "deposition_id",
    "attempts",
    "last_error",
    "created_at",
    "updated_at",
    "started_exporting_at",
    "finished_exporting_at",
    "failed_at",
)
"""Keys of an export in JSON output, in order; ``data`` and ``files`` follow them.

Types: ``id``, ``record_id``, ``concept_rec_id``, ``deposition_id`` and ``attempts`` are
numbers (or null); the times are ISO 8601 strings in UTC (or null); the rest are strings."""


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


def export_view(export: DataExport) -> dict[str, Any]:
    """Return an export as a JSON-ready dict (never holds a secret)."""
    view = {name: _iso(getattr(export, name)) for name in EXPORT_FIELDS}
    concept = view.get("concept_rec_id")
    if isinstance(concept, str) and concept.isdigit():
        view["concept_rec_id"] = int(concept)  # every id is a number, as record_id is
    view["data"] = dict(export.data or {})
    view["files"] = {
        name: {"size": entry.get("size"), "md5": entry.get("md5")}
        for name, entry in (export.uploads or {}).items()
    }
    view["files_kept"] = files_kept(view["data"])
    return view


def files_kept(data: dict[str, Any]) -> str | None:
    """Say where an export's files wait for a worker: the files store, or in place on a host."""
    if data.get("staged_removed_at"):
        return f"staged files removed from the files store at {data['staged_removed_at']}"
    if data.get("staged"):
        return "staged in the files store (any worker uploads them)"
    if data.get("host"):
        return f"in place on host {data['host']} (only its workers upload them)"
    return None


ALERT_FIELDS = (
    "uuid",
    "export_id",
    "class_name",
    "message",
    "level",
    "hostname",
    "resolved",
    "created_at",
    "resolved_at",
    "backtrace",
)
"""Keys of an alert in JSON output, in order."""


def alert_view(alert: Alert) -> dict[str, Any]:
    """Return an alert as a JSON-ready dict."""
    return {name: _iso(getattr(alert, name)) for name in ALERT_FIELDS}

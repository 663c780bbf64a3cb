"""The store: exports, alerts, the rate-limit log and schedule runs, in SQLite or PostgreSQL.

Build it at the edges with ``Store.open(settings.resolved_database_url)`` and do every piece
of work in ``with store.transaction() as session:``, the one place where database errors become
ours (``DatabaseUnavailable`` when the database is unavailable, ``Conflict`` on a violated
constraint). ``store/exports.py`` owns every change of an export's state. The job queue lives
in ``zenodo_export.jobs``. ``shared_pacer`` paces the requests of every worker of one Zenodo
token through the database.
"""

from zenodo_export.store.alerts import list_alerts, record_alert, resolve_alert
from zenodo_export.store.db import Store
from zenodo_export.store.exports import (
    TRANSITIONS,
    count_exports,
    earlier_in_progress,
    exports_by_key,
    get_export,
    list_exports,
    mark_failed,
    note_error,
    owner_of_deposition,
    previous_version,
    transition,
)
from zenodo_export.store.installation import installation_key
from zenodo_export.store.models import (
    Alert,
    AlertLevel,
    ApiSnapshot,
    DataExport,
    ExportState,
    Job,
    JobStatus,
    RateLimitEvent,
    ZenodoDataExport,
)
from zenodo_export.store.ratelimit import SharedBudget, request_times, shared_pacer

__all__ = [
    "TRANSITIONS",
    "Alert",
    "AlertLevel",
    "ApiSnapshot",
    "DataExport",
    "ExportState",
    "Job",
    "JobStatus",
    "RateLimitEvent",
    "SharedBudget",
    "Store",
    "ZenodoDataExport",
    "count_exports",
    "earlier_in_progress",
    "exports_by_key",
    "get_export",
    "installation_key",
    "list_alerts",
    "list_exports",
    "mark_failed",
    "note_error",
    "owner_of_deposition",
    "previous_version",
    "record_alert",
    "request_times",
    "resolve_alert",
    "shared_pacer",
    "transition",
]

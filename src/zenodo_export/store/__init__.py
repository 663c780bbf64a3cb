"""The store: exports, the durable job queue and alerts, in SQLite or PostgreSQL.

Build it at the edges with ``Store.open(settings.resolved_database_url)`` and do every piece
of work in ``with store.transaction() as session:``, the one place where database errors become
ours (``Transient`` when the database is unavailable, ``Conflict`` on a violated constraint).
``shared_pacer`` paces the requests of every worker of one Zenodo token through the database.
"""

from zenodo_export.store.alerts import list_alerts, record_alert, resolve_alert
from zenodo_export.store.db import Store
from zenodo_export.store.exports import (
    count_exports,
    earlier_in_progress,
    exports_by_key,
    get_export,
    list_exports,
    owner_of_deposition,
    previous_version,
)
from zenodo_export.store.jobs import (
    ClaimedJob,
    DataExportJob,
    active_job_for_export,
    claim,
    complete,
    enqueue,
    enqueue_once,
    fail,
    heartbeat,
    list_jobs,
    next_run_at,
    ready_count,
    release,
    retry_at,
)
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
    "Alert",
    "AlertLevel",
    "ApiSnapshot",
    "ClaimedJob",
    "DataExport",
    "DataExportJob",
    "ExportState",
    "Job",
    "JobStatus",
    "RateLimitEvent",
    "SharedBudget",
    "Store",
    "ZenodoDataExport",
    "active_job_for_export",
    "claim",
    "complete",
    "count_exports",
    "earlier_in_progress",
    "enqueue",
    "enqueue_once",
    "exports_by_key",
    "fail",
    "get_export",
    "heartbeat",
    "list_alerts",
    "list_exports",
    "list_jobs",
    "next_run_at",
    "owner_of_deposition",
    "previous_version",
    "ready_count",
    "record_alert",
    "release",
    "request_times",
    "resolve_alert",
    "retry_at",
    "shared_pacer",
]

"""The job runtime: a durable queue of leased rows, a registry of kinds, workers that run them.

It knows no job kind: each feature registers its own (``JobKind``) in a ``Registry``, and
``zenodo_export.kinds.default_registry`` gathers them. ``queue`` holds every job query
(enqueue, claim, heartbeat, settle, release), fenced by the lease token; ``retry`` the pure
retry decision; ``runner`` runs one claimed job and settles it; ``worker`` the threads,
heartbeats, outages and wake-ups. ``docs/architecture.md`` tells how to add a kind.
"""

from zenodo_export.http_delays import MAX_DELAY_SECONDS, bounded
from zenodo_export.jobs.context import JobContext, ThreadResources
from zenodo_export.jobs.lease import Heartbeat, Lease
from zenodo_export.jobs.outage import Outage
from zenodo_export.jobs.queue import (
    ClaimedJob,
    active_job_for_export,
    claim,
    enqueue,
    enqueue_once,
    hold,
    list_jobs,
    next_run_at,
    ready_count,
    release,
)
from zenodo_export.jobs.registry import JobKind, Registry
from zenodo_export.jobs.retry import Decision, decide
from zenodo_export.jobs.runner import JobRunner, Outcome
from zenodo_export.jobs.worker import Tally, Worker, WorkerCrashed, run_claimed, worker_id

__all__ = [
    "MAX_DELAY_SECONDS",
    "ClaimedJob",
    "Decision",
    "Heartbeat",
    "JobContext",
    "JobKind",
    "JobRunner",
    "Lease",
    "Outage",
    "Outcome",
    "Registry",
    "Tally",
    "ThreadResources",
    "Worker",
    "WorkerCrashed",
    "active_job_for_export",
    "bounded",
    "claim",
    "decide",
    "enqueue",
    "enqueue_once",
    "hold",
    "list_jobs",
    "next_run_at",
    "ready_count",
    "release",
    "run_claimed",
    "worker_id",
]

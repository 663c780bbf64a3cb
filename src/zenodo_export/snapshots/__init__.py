"""API snapshots: crawl a paginated JSON API into a dump, zip it, and archive it on Zenodo.

``SnapshotRequest`` (``options``) is what a snapshot is asked to do, for the command, the
config file and the service alike; ``create_snapshot`` creates an ``ApiSnapshot`` and its
``snapshot`` job; workers run the job one chunk of pages at a time (``run_snapshot_job``),
resumable after any crash. ``scheduled`` is the job a ``[snapshots.NAME]`` schedule queues.
"""

from zenodo_export.snapshots.crawl import KIND, register, run_snapshot_job
from zenodo_export.snapshots.fetch import PageRejected
from zenodo_export.snapshots.options import SnapshotOptions, SnapshotRequest, parse_request
from zenodo_export.snapshots.pagination import Cursor, Paging, advance, paging_of
from zenodo_export.snapshots.service import create_snapshot

__all__ = [
    "KIND",
    "Cursor",
    "PageRejected",
    "Paging",
    "SnapshotOptions",
    "SnapshotRequest",
    "advance",
    "create_snapshot",
    "paging_of",
    "parse_request",
    "register",
    "run_snapshot_job",
]

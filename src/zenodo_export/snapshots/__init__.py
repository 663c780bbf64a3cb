"""API snapshots: crawl a paginated JSON API into a dump, zip it, and archive it on Zenodo.

``create_snapshot`` creates an ``ApiSnapshot`` and its ``snapshot`` job; workers run the job
one chunk of pages at a time (``run_snapshot_job``), resumable after any crash.
"""

from zenodo_export.snapshots.crawl import KIND, run_snapshot_job
from zenodo_export.snapshots.fetch import PageRejected
from zenodo_export.snapshots.options import SnapshotOptions
from zenodo_export.snapshots.pagination import Cursor, Paging, advance, paging_of
from zenodo_export.snapshots.service import create_snapshot

__all__ = [
    "KIND",
    "Cursor",
    "PageRejected",
    "Paging",
    "SnapshotOptions",
    "advance",
    "create_snapshot",
    "paging_of",
    "run_snapshot_job",
]

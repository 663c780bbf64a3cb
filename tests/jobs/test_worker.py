"""The worker's own threads: what a burst run leaves behind when it returns."""

from __future__ import annotations

import threading
import time

from zenodo_export.jobs import JobRunner, Registry, Worker
from zenodo_export.settings import Settings
from zenodo_export.store import Store


def _listeners() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "listener"}


def test_a_burst_worker_stops_its_listener(postgres_store: Store, settings: Settings) -> None:
    """A burst worker on PostgreSQL leaves no LISTEN thread running once ``run`` returns."""
    before = _listeners()
    worker = Worker(JobRunner(postgres_store, settings, Registry()), burst=True)
    try:
        assert worker.run().total == 0
        deadline = time.monotonic() + 3.0
        while (left := _listeners() - before) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not left, "the listener thread is still running"
    finally:
        worker.stop()

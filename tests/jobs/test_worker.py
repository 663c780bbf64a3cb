"""The worker's own threads: what a burst run leaves behind when it returns."""

from __future__ import annotations

import threading
import time

import pytest

from zenodo_export.jobs import JobRunner, Registry, Worker, WorkerCrashed
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


class Fatal(BaseException):
    """Escapes every ``except Exception``: what kills a worker thread."""


def test_a_dead_thread_is_replaced_and_endless_deaths_stop_the_worker(
    sqlite_store: Store, settings: Settings
) -> None:
    """A thread that dies is replaced; five deaths within a minute raise WorkerCrashed."""
    deaths: list[str] = []

    def deadly_duty() -> None:
        deaths.append(threading.current_thread().name)
        raise Fatal("a bug in a periodic duty")

    worker = Worker(JobRunner(sqlite_store, settings, Registry()), ticks=[deadly_duty])
    with pytest.raises(WorkerCrashed, match="5 worker threads died"):
        worker.run()
    assert len(deaths) == 5 and worker.stopping.is_set()


def test_one_death_is_survived(sqlite_store: Store, settings: Settings) -> None:
    """A thread that dies once is replaced, and the worker goes on running jobs."""
    died = threading.Event()

    def duty_that_dies_once() -> None:
        if not died.is_set():
            died.set()
            raise Fatal("once")

    worker = Worker(
        JobRunner(sqlite_store, settings, Registry()), ticks=[duty_that_dies_once], burst=True
    )
    assert worker.run().total == 0
    assert died.is_set()

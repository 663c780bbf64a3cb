"""The worker: claim ready jobs from the database, run them, keep their leases alive.

Any number of workers on any number of machines share one database. A job is claimed with a
lease that a heartbeat thread extends; a killed worker's lease runs out and another worker
claims the job again, and the export resumes from what it stored. On SIGTERM a worker stops
claiming, lets running exports finish within a grace period, then releases what is left.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from zenodo_export.pipeline.runner import JobRunner, Outcome, schedule_janitor
from zenodo_export.store import ClaimedJob, Store, jobs

log = logging.getLogger(__name__)


def worker_id() -> str:
    """Return an id naming this process on this host."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Heartbeat:
    """Keep one job's lease alive from a background thread while the job runs."""

    def __init__(self, store: Store, job: ClaimedJob, *, lease_seconds: float) -> None:
        self.store = store
        self.job = job
        self.lease_seconds = lease_seconds
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job.id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            if not jobs.heartbeat(self.store, self.job, lease_seconds=self.lease_seconds):
                self.lost = True
                log.warning("lost the lease on job %s (export %s)", self.job.id, self.job.export_id)
                return


@dataclass
class Tally:
    """Counts of how this worker's jobs ended."""

    counts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: Outcome) -> None:
        """Count one outcome."""
        with self.lock:
            self.counts[outcome.result] = self.counts.get(outcome.result, 0) + 1

    @property
    def total(self) -> int:
        """Return how many jobs ran."""
        return sum(self.counts.values())


class Worker:
    """Runs jobs from one store with ``concurrency`` threads until stopped (or idle in burst)."""

    def __init__(
        self,
        store: Store,
        runner: JobRunner,
        *,
        concurrency: int = 1,
        burst: bool = False,
        ticks: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.store = store
        self.runner = runner
        self.settings = runner.settings
        self.concurrency = concurrency
        self.burst = burst
        self.ticks = tuple(ticks)
        self.id = worker_id()
        self.stopping = threading.Event()
        self.tally = Tally()
        self._held: dict[int, ClaimedJob] = {}
        self._held_lock = threading.Lock()

    def run(self, *, grace: float | None = None) -> Tally:
        """Work until stopped (or, in burst mode, until no job is ready); return the tally."""
        schedule_janitor(self.store, self.settings)
        threads = [
            threading.Thread(target=self._loop, name=f"worker-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        for thread in threads:
            thread.start()
        try:
            self._wait(threads, grace)
        finally:
            self.runner.close()
        return self.tally

    def stop(self) -> None:
        """Stop claiming new jobs; running ones finish."""
        self.stopping.set()

    def _wait(self, threads: list[threading.Thread], grace: float | None) -> None:
        while any(thread.is_alive() for thread in threads):
            if self.stopping.is_set():
                wait = grace if grace is not None else self.settings.lease_seconds
                deadline = time.monotonic() + wait
                for thread in threads:
                    thread.join(timeout=max(0.0, deadline - time.monotonic()))
                self._release_held()
                return
            for thread in threads:
                thread.join(timeout=0.2)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            self._tick()
            job = jobs.claim(
                self.store, worker_id=self.id, lease_seconds=self.settings.lease_seconds
            )
            if job is None:
                if self.burst and self._idle():
                    return
                self.stopping.wait(self.settings.poll_interval)
                continue
            self._run_one(job)

    def _tick(self) -> None:
        """Run the periodic duties (e.g. firing due schedules); they never stop the worker."""
        for tick in self.ticks:
            try:
                tick()
            except Exception:
                log.exception("a periodic duty failed; it runs again on the next poll")

    def _idle(self) -> bool:
        with self._held_lock:
            return not self._held

    def _run_one(self, job: ClaimedJob) -> None:
        with self._held_lock:
            self._held[job.id] = job
        try:
            with Heartbeat(self.store, job, lease_seconds=self.settings.lease_seconds):
                outcome = self.runner.perform(job)
        except Exception:  # the worker never dies of one job
            log.exception("job %s crashed the runner; its lease will expire", job.id)
            return
        finally:
            with self._held_lock:
                self._held.pop(job.id, None)
        self.tally.add(outcome)

    def _release_held(self) -> None:
        with self._held_lock:
            held = list(self._held.values())
        for job in held:
            jobs.release(self.store, job)
            log.warning("released job %s (export %s) on shutdown", job.id, job.export_id)

"""The worker: claim ready jobs from the database, run them, keep their leases alive.

Any number of workers on any number of machines share one database. Each thread claims a job
with a lease that a heartbeat thread extends; a killed worker's lease runs out and another
worker claims the job again, which resumes from what was stored. A database outage never
stops a worker: every call of the loop waits for the database to come back. A thread that
dies unexpectedly is replaced; a worker whose threads keep dying stops with an error
(``WorkerCrashed``), never silently. On SIGTERM a worker stops claiming, lets running jobs
finish within a grace period, then releases what is left.
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

from zenodo_export.errors import DatabaseUnavailable, ZenodoExportError
from zenodo_export.jobs import queue
from zenodo_export.jobs.lease import Heartbeat, Lease
from zenodo_export.jobs.presence import Presence
from zenodo_export.jobs.queue import ClaimedJob
from zenodo_export.jobs.runner import JobRunner, Outcome, describe
from zenodo_export.jobs.wakeup import Listener, Wakeup

log = logging.getLogger("zenodo_export.jobs")

CRASH_LIMIT = 5
"""Unexpected thread deaths within ``CRASH_WINDOW`` seconds after which the worker gives up."""

CRASH_WINDOW = 60.0
"""Seconds over which thread deaths are counted."""

SUPERVISE_SECONDS = 1.0
"""How often the supervisor looks for dead threads and for a stop request."""


class WorkerCrashed(ZenodoExportError):
    """The worker's threads kept dying of unexpected errors; the process must exit non-zero."""


def worker_id() -> str:
    """Return an id naming this process on this host."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


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


def run_claimed(runner: JobRunner, job: ClaimedJob, sent: float) -> Outcome:
    """Run a job claimed at ``sent`` (monotonic) under its lease and heartbeat; log both ends."""
    log.info("claimed %s (attempt %d)", describe(job), job.attempts)
    started = time.monotonic()
    lease = Lease(runner.store, job, lease_seconds=runner.settings.lease_seconds, sent_at=sent)
    with Heartbeat(lease, runner.outage):
        outcome = runner.perform(job, lease)
    log.info("finished %s: %s in %.2f s", describe(job), outcome.result, time.monotonic() - started)
    return outcome


class Worker:
    """Runs jobs from one store with ``concurrency`` threads until stopped (or idle in burst)."""

    def __init__(
        self,
        runner: JobRunner,
        *,
        concurrency: int = 1,
        burst: bool = False,
        ticks: Sequence[Callable[[], None]] = (),
        only_export: int | None = None,
        queues: Sequence[str] | None = None,
    ) -> None:
        self.runner = runner
        self.queues = tuple(queues) if queues is not None else queue.local_queues()
        self.store = runner.store
        self.settings = runner.settings
        self.concurrency = concurrency
        self.burst = burst
        self.ticks = tuple(ticks)
        self.only_export = only_export
        self.id = worker_id()
        self.stopping = runner.outage.stopping
        self.outage = runner.outage
        self.bell = Wakeup()
        self.tally = Tally()
        self._held: dict[int, ClaimedJob] = {}
        self._held_lock = threading.Lock()
        self._crashes: list[float] = []
        self._returned: set[int] = set()  # numbers of the threads whose loop ended normally
        self.presence = Presence(self.store, self.id, self.queues, concurrency)

    def run(self, *, grace: float | None = None) -> Tally:
        """Work until stopped (or, in burst mode, until no job is ready); return the tally.

        Raises ``WorkerCrashed`` when threads keep dying of unexpected errors.
        """
        log.info(
            "worker %s started: %d thread(s), kinds %s, queues %s",
            self.id,
            self.concurrency,
            ", ".join(self.runner.registry.names()),
            ", ".join(self.queues),
        )
        self.presence.start()
        done = threading.Event()
        Listener(self.store, self.bell, done).start()
        threads = [self._start_thread(n) for n in range(self.concurrency)]
        try:
            self._supervise(threads, grace)
        finally:
            done.set()  # the listener stops too, also when a burst ends without stop()
            self.bell.ring()
            self.presence.stop()
            self.runner.close()
        log.info("worker %s stopped after %d job(s)", self.id, self.tally.total)
        return self.tally

    def stop(self) -> None:
        """Stop claiming new jobs; running ones finish."""
        self.stopping.set()
        self.bell.ring()

    def _start_thread(self, number: int) -> threading.Thread:
        thread = threading.Thread(
            target=self._thread_main, name=f"worker-{number}", daemon=True, args=(number,)
        )
        thread.start()
        return thread

    def _thread_main(self, number: int) -> None:
        try:
            self._loop()
        except BaseException:
            log.exception("worker thread %d died", number)
            return
        self._returned.add(number)

    def _supervise(self, threads: list[threading.Thread], grace: float | None) -> None:
        while len(self._returned) < len(threads):
            self.presence.beat()
            if self.stopping.is_set():
                self._drain(threads, grace)
                return
            for index, thread in enumerate(threads):
                thread.join(timeout=SUPERVISE_SECONDS / len(threads))
                if not thread.is_alive() and index not in self._returned:
                    threads[index] = self._replace(index)

    def _replace(self, index: int) -> threading.Thread:
        now = time.monotonic()
        self._crashes = [t for t in self._crashes if now - t < CRASH_WINDOW] + [now]
        if len(self._crashes) >= CRASH_LIMIT:
            self.stop()
            raise WorkerCrashed(
                f"{len(self._crashes)} worker threads died within {CRASH_WINDOW:g} s; "
                "see the log for their errors"
            )
        log.error("starting another worker thread in place of thread %d", index)
        return self._start_thread(index)

    def _drain(self, threads: list[threading.Thread], grace: float | None) -> None:
        wait = grace if grace is not None else self.settings.lease_seconds
        deadline = time.monotonic() + wait
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._release_held()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            self._tick()
            seen = self.bell.rings
            try:
                job, sent = self._claim()
            except DatabaseUnavailable:
                return  # only when stopping during an outage
            if job is None:
                if self.burst and self._idle():
                    return
                self.bell.wait(self.settings.poll_interval, seen=seen)
                continue
            self._run_one(job, sent)

    def _claim(self) -> tuple[ClaimedJob | None, float]:
        sent = time.monotonic()

        def claim() -> ClaimedJob | None:
            nonlocal sent
            sent = time.monotonic()
            return queue.claim(
                self.store,
                worker_id=self.id,
                lease_seconds=self.settings.lease_seconds,
                max_attempts=self.settings.max_attempts,
                export_id=self.only_export,
                queues=None if self.only_export is not None else self.queues,
            )

        job = self.outage.call(claim)
        return job, sent

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

    def _run_one(self, job: ClaimedJob, sent: float) -> None:
        with self._held_lock:
            self._held[job.id] = job
        try:
            outcome = run_claimed(self.runner, job, sent)
        except Exception:  # a bug in a kind: its lease runs out and the job counts as lost
            log.exception("%s crashed the runner; its lease will run out", describe(job))
            return
        finally:
            with self._held_lock:
                self._held.pop(job.id, None)
        self.tally.add(outcome)

    def _release_held(self) -> None:
        with self._held_lock:
            held = list(self._held.values())
        for job in held:
            try:
                queue.release(self.store, job)
            except DatabaseUnavailable:
                log.warning("could not release %s; its lease will run out", describe(job))
                continue
            log.warning("released %s on shutdown", describe(job))

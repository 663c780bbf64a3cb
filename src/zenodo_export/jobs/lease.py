"""A worker's hold on one claimed job: its deadline, the heartbeat that extends it, the fence.

The lease is measured twice. The database decides when another worker may take the job
(``lease_expires_at``, by its own clock). The holder keeps a stricter deadline by its monotonic
clock, counted from *before* each claim or heartbeat was sent, so it always gives the job up
before the database would hand it to someone else. ``check`` raises ``LeaseLost`` once the
lease is gone; a job calls it before each irreversible step (each file upload and each chunk
of it, the metadata PUT, publish, each snapshot chunk commit), and ``transaction`` opens a
transaction that writes only while the job is still ours (``queue.hold``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from zenodo_export.errors import DatabaseUnavailable, LeaseLost
from zenodo_export.jobs import queue
from zenodo_export.jobs.outage import Outage
from zenodo_export.jobs.queue import ClaimedJob
from zenodo_export.store.db import Store

log = logging.getLogger("zenodo_export.jobs")


class Lease:
    """The lease on one job, as its holder knows it."""

    def __init__(
        self, store: Store, job: ClaimedJob, *, lease_seconds: float, sent_at: float
    ) -> None:
        self.store = store
        self.job = job
        self.lease_seconds = lease_seconds
        self._deadline = sent_at + lease_seconds
        self._lost: str | None = None
        self._lock = threading.Lock()

    @property
    def lost(self) -> bool:
        """Say whether the lease is gone (taken by another worker, or run out)."""
        return self.reason() is not None

    def reason(self) -> str | None:
        """Return why the lease is gone, or None while it holds."""
        with self._lock:
            if self._lost is None and time.monotonic() >= self._deadline:
                self._lost = f"its lease ran out ({self.lease_seconds:g} s without a heartbeat)"
            return self._lost

    def check(self) -> None:
        """Raise ``LeaseLost`` when the lease is gone: the job must stop before its next step."""
        why = self.reason()
        if why is not None:
            raise LeaseLost(f"job {self.job.id} stopped: {why}")

    def renewed(self, sent_at: float) -> None:
        """Note a heartbeat the database accepted, sent at ``sent_at`` (monotonic)."""
        with self._lock:
            if self._lost is None:
                self._deadline = max(self._deadline, sent_at + self.lease_seconds)

    def taken(self) -> None:
        """Note that the database says another worker holds the job now."""
        with self._lock:
            self._lost = self._lost or "another worker holds it now"

    @property
    def remaining(self) -> float:
        """Return the seconds left before the holder must give the job up."""
        with self._lock:
            return self._deadline - time.monotonic()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session whose writes commit only while the job is still ours."""
        self.check()
        with self.store.transaction() as session:
            try:
                queue.hold(session, self.job)
            except LeaseLost:
                self.taken()
                raise
            yield session


class Heartbeat:
    """Extend one lease from a background thread, through database outages, until stopped."""

    def __init__(self, lease: Lease, outage: Outage) -> None:
        self.lease = lease
        self.outage = outage
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{lease.job.id}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        interval = self.lease.lease_seconds / 3
        while not self._stop.wait(interval):
            try:
                held = self._beat()
            except Exception:
                log.exception("heartbeat of job %s failed", self.lease.job.id)
                held = not self.lease.lost
            if not held:
                job = self.lease.job
                log.warning(
                    "lost the lease on job %s (%s, export %s): %s; it stops before its next step",
                    job.id,
                    job.kind,
                    job.export_id,
                    self.lease.reason(),
                )
                return

    def _beat(self) -> bool:
        lease = self.lease

        def beat() -> bool:
            sent = time.monotonic()
            if not queue.heartbeat(lease.store, lease.job, lease_seconds=lease.lease_seconds):
                lease.taken()
                return False
            lease.renewed(sent)
            return True

        try:
            return self.outage.call(beat, until=lambda: lease.lost or self._stop.is_set())
        except DatabaseUnavailable:
            return not lease.lost

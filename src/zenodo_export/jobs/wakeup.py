"""Waking idle workers: ``LISTEN``/``NOTIFY`` on PostgreSQL, the poll interval everywhere.

``enqueue`` notifies ``queue.NOTIFY_CHANNEL`` in the enqueuing transaction; a listener thread
per worker process holds one connection that listens, and wakes the worker's idle threads when
a notification arrives. Without it (SQLite, or the listening connection lost during an outage)
the threads wake after the poll interval, so a lost notification only costs latency.
"""

from __future__ import annotations

import logging
import threading

from zenodo_export.jobs.outage import pauses
from zenodo_export.jobs.queue import NOTIFY_CHANNEL
from zenodo_export.store.db import Store

log = logging.getLogger("zenodo_export.jobs")


class Wakeup:
    """A bell the idle threads wait on; ringing it wakes them all."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._rings = 0

    @property
    def rings(self) -> int:
        """Return how often the bell rang so far (read it before looking for work)."""
        with self._cond:
            return self._rings

    def ring(self) -> None:
        """Wake every waiting thread."""
        with self._cond:
            self._rings += 1
            self._cond.notify_all()

    def wait(self, timeout: float, *, seen: int) -> None:
        """Wait until the bell rings after ``seen`` rings, or ``timeout`` seconds pass."""
        with self._cond:
            self._cond.wait_for(lambda: self._rings != seen, timeout=timeout)


class Listener:
    """Listen for new jobs on PostgreSQL and ring the bell; reconnect after outages."""

    def __init__(self, store: Store, bell: Wakeup, stopping: threading.Event) -> None:
        self.store = store
        self.bell = bell
        self.stopping = stopping
        self._thread = threading.Thread(target=self._run, name="listener", daemon=True)

    def start(self) -> None:
        """Start listening in the background (PostgreSQL only; nothing on SQLite)."""
        if self.store.dialect == "postgresql":
            self._thread.start()

    def _conninfo(self) -> str:
        url = self.store.engine.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _run(self) -> None:
        pause = pauses(first=0.5)
        while not self.stopping.is_set():
            try:
                self._listen()
                pause = pauses(first=0.5)
            except Exception as exc:
                log.debug("job listener disconnected (%s); polling until it reconnects", exc)
                self.stopping.wait(pause())

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(self._conninfo(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self.bell.ring()  # jobs queued while we were not listening
            while not self.stopping.is_set():
                for _ in conn.notifies(timeout=1.0, stop_after=1):
                    self.bell.ring()

"""Riding out a database outage: retry a database call with back-off, logging its start and end.

A refused or dropped connection, a PostgreSQL restart or fail-over, and SQLite's "database is
locked" all reach us as ``DatabaseUnavailable`` (``store/db.py``). The worker loop, the
heartbeat and the path that settles a job's outcome call the database through ``Outage.call``,
which waits and tries again; one line is logged when an outage starts and one when it ends,
however many calls and threads were waiting through it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from zenodo_export.errors import DatabaseUnavailable

log = logging.getLogger("zenodo_export.jobs")

T = TypeVar("T")

FIRST_PAUSE = 0.1
"""Seconds before the first retry of a database call during an outage."""

LONGEST_PAUSE = 5.0
"""The longest pause between two retries of a database call during an outage."""


def pauses(first: float = FIRST_PAUSE, longest: float = LONGEST_PAUSE) -> Callable[[], float]:
    """Return a source of doubling pauses, capped at ``longest``."""
    state = {"next": first}

    def pause() -> float:
        current = state["next"]
        state["next"] = min(current * 2, longest)
        return current

    return pause


class Outage:
    """Shared by the threads of one worker: whether the database is away, and since when."""

    def __init__(self, *, stopping: threading.Event | None = None) -> None:
        self.stopping = stopping or threading.Event()
        self._lock = threading.Lock()
        self._since: float | None = None

    @property
    def ongoing(self) -> bool:
        """Say whether the database is unavailable right now, as far as we know."""
        return self._since is not None

    def call(
        self,
        action: Callable[[], T],
        *,
        until: Callable[[], bool] = lambda: False,
    ) -> T:
        """Run ``action`` until the database answers; give up (re-raise) once ``until()`` holds.

        Also gives up when the worker is stopping, so that shutdown is never blocked.
        """
        pause = pauses()
        while True:
            try:
                result = action()
            except DatabaseUnavailable as exc:
                self._started(exc)
                if until() or self.stopping.is_set():
                    raise
                self.stopping.wait(pause())
                continue
            self._ended()
            return result

    def _started(self, exc: DatabaseUnavailable) -> None:
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        log.warning("database unavailable, retrying until it answers: %s", exc)

    def _ended(self) -> None:
        with self._lock:
            if self._since is None:
                return
            lasted, self._since = time.monotonic() - self._since, None
        log.warning("database available again after %.1f s", lasted)

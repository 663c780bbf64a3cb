"""What a job's ``perform`` receives: its job, lease, store, settings, and per-thread resources."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from zenodo_export.jobs.lease import Lease
from zenodo_export.jobs.queue import ClaimedJob
from zenodo_export.settings import Settings
from zenodo_export.store.db import Store

T = TypeVar("T")


class ThreadResources:
    """Objects built once per worker thread and kept for its next jobs (e.g. an HTTP client).

    Whatever has a ``close()`` is closed by ``close``, when the worker stops.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._built: list[object] = []
        self._lock = threading.Lock()

    def get(self, key: str, build: Callable[[], T]) -> T:
        """Return this thread's object for ``key``, building it on first use."""
        cache: dict[str, Any] = self._local.__dict__.setdefault("cache", {})
        if key not in cache:
            cache[key] = build()
            with self._lock:
                self._built.append(cache[key])
        return cache[key]  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close every object built so far that can be closed."""
        with self._lock:
            built, self._built = self._built, []
        for item in built:
            close = getattr(item, "close", None)
            if callable(close):
                close()


@dataclass
class JobContext:
    """One run of one claimed job."""

    job: ClaimedJob
    lease: Lease
    store: Store
    settings: Settings
    resources: ThreadResources = field(default_factory=ThreadResources)
    services: Mapping[str, Any] = field(default_factory=dict)
    """Objects the process provides to the kinds that want them (e.g. ``progress``)."""

    def check(self) -> None:
        """Raise ``LeaseLost`` if the lease is gone: call before each irreversible step."""
        self.lease.check()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session whose writes commit only while the job is still ours."""
        with self.lease.transaction() as session:
            yield session

"""Which workers are alive: each worker writes its row in ``workers`` as it runs.

A worker says it started, beats every ``BEAT_SECONDS`` from its supervisor, and says it
stopped. A worker whose beat is older than ``ALIVE_SECONDS`` by the database's clock was killed
or lost its database: the dashboard and ``/metrics`` count it gone. Times are the database's, as
for leases, so that one machine's clock cannot make another's workers look dead. A beat that
fails (the database is down) is skipped: presence never stops a worker.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Executable, and_, func, insert, select, update
from sqlalchemy.orm import Session

from zenodo_export.errors import ZenodoExportError
from zenodo_export.store.db import Store
from zenodo_export.store.models import WorkerSeen
from zenodo_export.store.types import db_time

log = logging.getLogger("zenodo_export.jobs")

BEAT_SECONDS = 15.0
"""How often a running worker writes that it is alive."""

ALIVE_SECONDS = 3 * BEAT_SECONDS
"""A worker not heard from for longer is counted gone."""


class Presence:
    """One worker's row: ``start``, ``beat`` (at most every ``BEAT_SECONDS``), ``stop``."""

    def __init__(self, store: Store, worker_id: str, queues: Sequence[str], concurrency: int):
        self.store = store
        self.worker_id = worker_id
        self.queues = ",".join(queues)[:1024]
        self.concurrency = concurrency
        self._last = 0.0

    def start(self) -> None:
        """Write the worker's row (its start and first beat)."""
        now = db_time(self.store.dialect)
        self._write(
            insert(WorkerSeen).values(
                id=self.worker_id[:255],
                hostname=socket.gethostname()[:255],
                pid=os.getpid(),
                queues=self.queues,
                concurrency=self.concurrency,
                started_at=now,
                last_seen_at=now,
            )
        )
        self._last = time.monotonic()

    def beat(self) -> None:
        """Write that the worker is alive, if ``BEAT_SECONDS`` have passed since the last beat."""
        if time.monotonic() - self._last < BEAT_SECONDS:
            return
        self._last = time.monotonic()
        self._update(last_seen_at=db_time(self.store.dialect))

    def stop(self) -> None:
        """Write that the worker stopped."""
        now = db_time(self.store.dialect)
        self._update(last_seen_at=now, stopped_at=now)

    def _update(self, **values: Any) -> None:
        self._write(update(WorkerSeen).where(WorkerSeen.id == self.worker_id).values(**values))

    def _write(self, statement: Executable) -> None:
        try:
            with self.store.transaction() as session:
                session.execute(statement)
        except ZenodoExportError as exc:
            log.warning("could not write this worker's presence: %s", exc)


def alive_clause(dialect: str) -> ColumnElement[bool]:
    """SQL: the worker has not stopped and was heard from within ``ALIVE_SECONDS``."""
    return and_(
        WorkerSeen.stopped_at.is_(None),
        WorkerSeen.last_seen_at > db_time(dialect, plus=-ALIVE_SECONDS),
    )


def workers_seen(session: Session, *, limit: int = 100) -> list[tuple[WorkerSeen, bool]]:
    """Return the workers heard from most recently, each with whether it is alive now."""
    alive = alive_clause(session.get_bind().dialect.name).label("alive")
    statement = select(WorkerSeen, alive).order_by(WorkerSeen.last_seen_at.desc()).limit(limit)
    return [(row, bool(is_alive)) for row, is_alive in session.execute(statement).all()]


def count_alive(session: Session) -> int:
    """Count the workers alive now."""
    clause = alive_clause(session.get_bind().dialect.name)
    return int(session.scalar(select(func.count()).select_from(WorkerSeen).where(clause)) or 0)

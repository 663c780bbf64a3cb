"""The request budget shared by every worker of one Zenodo token, kept in the database.

Every request sent is a row of ``rate_limit_events`` (key, at). Taking a turn is one short
transaction: serialize the key (PostgreSQL: a transaction-scoped advisory lock on it; SQLite:
every transaction already starts with ``BEGIN IMMEDIATE``), read the clock, look up the
``amount``-th newest request of each budget, let ``next_turn`` decide, and record the request
if it may go. Requests older than the longest window are pruned on the way.

The clock is the database server's on PostgreSQL, so that workers on several machines agree
on it, and this machine's on SQLite, which only processes of this machine can share. The key
is a hash of the Zenodo URL and the token (``limiter_key``): the token is never stored.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from zenodo_export import defaults
from zenodo_export.store.db import Store
from zenodo_export.store.models import RateLimitEvent
from zenodo_export.zenodo.pacing import Budget, Pacer, Turn, limiter_key, next_turn

LOCK_CLASS = 0x7A78_524C
"""First half of the PostgreSQL advisory lock that serializes the turns of one key ("zxRL")."""


class SharedBudget:
    """The budgets of one key, taken turn by turn by every process that uses the database."""

    def __init__(self, store: Store, key: str, budgets: Sequence[Budget]) -> None:
        if not budgets:
            raise ValueError("a shared budget needs at least one budget")
        self.store = store
        self.key = key
        self.budgets = tuple(budgets)
        self.longest = max(budget.seconds for budget in self.budgets)

    def acquire(self, *, now: float | None = None) -> Turn:
        """Count one request if every budget allows it now; otherwise say how long to wait."""
        with self.store.transaction() as session:
            self._lock(session)
            moment = self._clock(session) if now is None else now
            newest = [(budget, self._nth_newest(session, budget.amount)) for budget in self.budgets]
            turn = next_turn(moment, newest)
            if turn.allowed:
                session.add(RateLimitEvent(key=self.key, at=moment))
                self._prune(session, before=moment - self.longest)
            return turn

    def _lock(self, session: Session) -> None:
        """Serialize turns on this key; the clock must be read only after this returns."""
        if self.store.dialect != "postgresql":
            # SQLite: the transaction (BEGIN IMMEDIATE, the write lock) starts lazily at the
            # first statement; start it now, or a turn could read the clock, wait for the
            # lock, and record an older time than the turns it waited behind.
            session.connection()
            return
        # The key as the signed 32-bit int the two-argument form takes; two keys that
        # happen to share it only take their turns one after the other.
        object_id = zlib.crc32(self.key.encode()) - 2**31
        session.execute(select(func.pg_advisory_xact_lock(LOCK_CLASS, object_id)))

    def _clock(self, session: Session) -> float:
        if self.store.dialect == "postgresql":
            # clock_timestamp(), not now(): the lock may have been waited for.
            epoch = select(func.extract("epoch", func.clock_timestamp()))
            return float(session.execute(epoch).scalar_one())
        return time.time()

    def _nth_newest(self, session: Session, n: int) -> float | None:
        statement = (
            select(RateLimitEvent.at)
            .where(RateLimitEvent.key == self.key)
            .order_by(RateLimitEvent.at.desc())
            .offset(n - 1)
            .limit(1)
        )
        return session.scalar(statement)

    def _prune(self, session: Session, *, before: float) -> None:
        session.execute(
            delete(RateLimitEvent).where(RateLimitEvent.key == self.key, RateLimitEvent.at < before)
        )


def shared_pacer(
    store: Store,
    *,
    zenodo_url: str,
    token: str,
    budgets: Sequence[Budget],
    max_wait: float = defaults.PACING_MAX_WAIT,
) -> Pacer | None:
    """Return the pacer of every worker of this URL and token; None when pacing is off."""
    if not budgets:
        return None
    shared = SharedBudget(store, limiter_key(zenodo_url, token), budgets)
    return Pacer(shared.acquire, max_wait=max_wait)


def request_times(session: Session, key: str) -> list[float]:
    """Return the times of the requests still on record for ``key``, oldest first."""
    statement = (
        select(RateLimitEvent.at).where(RateLimitEvent.key == key).order_by(RateLimitEvent.at)
    )
    return list(session.scalars(statement))

"""Pacing: keep the requests sent to Zenodo under the configured budgets, in sliding windows.

A budget (``100/minute``) holds in EVERY window of its length, not only in windows aligned to
the clock, so that whatever windows Zenodo counts in (fixed ones like Flask-Limiter's, or
sliding ones) a budget below its limit never meets a 429.

``next_turn`` is the pure decision; ``Pacer`` is the thin loop that asks a limiter for a turn
and sleeps until it gets one. The limiter shared by every worker of a token, on every machine,
is kept in the database (``zenodo_export.store.ratelimit``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from zenodo_export import defaults
from zenodo_export.errors import RateLimited
from zenodo_export.rates import PERIOD_SECONDS, parse_rates

log = logging.getLogger("zenodo_export.zenodo")


@dataclass(frozen=True)
class Budget:
    """At most ``amount`` requests in any window of ``seconds``."""

    amount: int
    seconds: float

    def __str__(self) -> str:
        names = [name for name, seconds in PERIOD_SECONDS.items() if seconds == self.seconds]
        return f"{self.amount}/{names[0] if names else f'{self.seconds:g}s'}"


def parse_budgets(text: str) -> tuple[Budget, ...]:
    """Parse ``100/minute,5000/hour``; ``off`` (or nothing) means no pacing at all."""
    try:
        rates = parse_rates(text)
    except ValueError as exc:
        raise ValueError(
            f"{exc} (several are separated by commas; 'off' turns pacing off)"
        ) from None
    return tuple(Budget(rate.amount, float(rate.seconds)) for rate in rates)


def limiter_key(zenodo_url: str, token: str) -> str:
    """Return the key of the budget shared by every client of this Zenodo URL and token.

    A truncated sha256: the same on every machine, and the token cannot be read back from it.
    """
    identity = f"{zenodo_url.rstrip('/')}/\n{token}".encode()
    return hashlib.sha256(identity).hexdigest()[:32]


@dataclass(frozen=True)
class Turn:
    """The answer to "may a request go at ``at``?": yes when ``wait`` is 0, else wait that long.

    ``budget`` names the budget that holds the request back.
    """

    at: float
    wait: float = 0.0
    budget: Budget | None = None

    @property
    def allowed(self) -> bool:
        """Say whether the request may go now (and was counted)."""
        return self.wait <= 0.0


def next_turn(now: float, newest: Iterable[tuple[Budget, float | None]]) -> Turn:
    """Decide whether one more request may go at ``now``, or how long it must wait.

    ``newest`` pairs each budget with the time of the ``amount``-th newest request counted so
    far (None when fewer were sent). Windows are half-open: a request sent at ``t`` counts in
    the window ending at ``now`` while ``now - t < seconds``, so the next request may go as
    soon as that one has left, and the longest such wait over all budgets wins.
    """
    turn = Turn(at=now)
    for budget, nth_newest in newest:
        if nth_newest is None:
            continue
        # Written as the window's own test (now - t < seconds), so that rounding agrees with it.
        wait = budget.seconds - (now - nth_newest)
        if wait > turn.wait:
            turn = Turn(at=now, wait=wait, budget=budget)
    return turn


Acquire = Callable[[], Turn]
"""Takes a turn: counts one request and returns an allowed ``Turn``, or says how long to wait."""


class Pacer:
    """Blocks before each request until the shared budgets allow one more."""

    def __init__(
        self,
        acquire: Acquire,
        *,
        max_wait: float = defaults.PACING_MAX_WAIT,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.acquire = acquire
        self.max_wait = max_wait
        self.sleep = sleep

    def wait_for_turn(self) -> Turn:
        """Sleep until a request may go, count it and return its turn.

        A wait longer than ``max_wait`` (an hourly budget used up) raises ``RateLimited``, so
        that the job is postponed without using an attempt instead of holding a worker.
        """
        while True:
            turn = self.acquire()
            if turn.allowed:
                return turn
            if turn.wait > self.max_wait:
                raise RateLimited(
                    f"the request budget {turn.budget} shared by every worker of this token "
                    f"(ZENODO_EXPORT_RATE_LIMITS) is used up for {turn.wait:.0f} s",
                    retry_after=turn.wait,
                )
            if turn.wait >= 1:
                log.info(
                    "waiting %.0f s for the request budget %s shared by every worker of this "
                    "token (ZENODO_EXPORT_RATE_LIMITS)",
                    turn.wait,
                    turn.budget,
                )
            self.sleep(turn.wait)

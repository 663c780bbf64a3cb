"""The pure retry decision: retry later, postpone, or fail for good; and how long to wait.

Every delay is finite and bounded: a ``Retry-After`` of ``1e12``, ``inf`` or ``nan`` (from
Zenodo or from a crawled API) must never crash the failure path or park a job for ever, so
``bounded`` clamps each delay into ``[0, MAX_DELAY_SECONDS]``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

from zenodo_export.errors import (
    DatabaseUnavailable,
    Deferred,
    RateLimited,
    Rejected,
    Transient,
    ZenodoExportError,
)
from zenodo_export.http_delays import MAX_DELAY_SECONDS, bounded

DEFAULT_POSTPONE_SECONDS = 60.0
"""How long a rate-limited or deferred job waits when nobody said how long."""

OUTAGE_POSTPONE_SECONDS = 1.0
"""How long a job that met a database outage waits (no attempt used: the job was not at fault)."""

Action = Literal["retry", "postpone", "fail"]


@dataclass(frozen=True)
class Decision:
    """What to do after an attempt failed, and after how many seconds."""

    action: Action
    delay: float = 0.0


def sidekiq_delay(attempt: int, *, base: float, rng: random.Random | None = None) -> float:
    """Sidekiq's back-off: ``attempt**4 + base + rand(10) * (attempt + 1)`` seconds."""
    rng = rng or random.Random()
    return float(attempt**4 + base + rng.randrange(10) * (attempt + 1))


def decide(
    exc: BaseException,
    *,
    attempt: int,
    max_attempts: int,
    base: float,
    scale: float = 1.0,
    rng: random.Random | None = None,
) -> Decision:
    """Decide whether a failed attempt is retried, postponed (rate limit) or final."""
    asked = bounded(exc.retry_after) if isinstance(exc, Transient) else None
    if isinstance(exc, DatabaseUnavailable):
        return Decision("postpone", OUTAGE_POSTPONE_SECONDS)
    if isinstance(exc, RateLimited | Deferred):
        return Decision("postpone", asked if asked is not None else DEFAULT_POSTPONE_SECONDS)
    if isinstance(exc, Rejected) or (
        isinstance(exc, ZenodoExportError) and not isinstance(exc, Transient)
    ):
        return Decision("fail")
    if attempt >= max_attempts:
        return Decision("fail")
    scaled = sidekiq_delay(attempt, base=base, rng=rng) * scale
    delay = MAX_DELAY_SECONDS if math.isinf(scaled) else bounded(scaled) or 0.0
    return Decision("retry", max(delay, asked or 0.0))

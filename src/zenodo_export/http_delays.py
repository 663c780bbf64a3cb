"""How long a server asks us to wait: ``Retry-After`` and ``X-RateLimit-Reset``, read once.

Used by both HTTP seams, Zenodo's (``zenodo/responses.py``) and a crawled API's
(``snapshots/fetch.py``). Every delay is finite and bounded: a value that is not a finite
number (``inf``, ``nan``, garbage) is no delay at all (None: the caller's default applies), and
every other one is clamped into ``[0, MAX_DELAY_SECONDS]`` (one day), so ``Retry-After: 1e12``
or a date in the year 9999 postpones a job by a day, and ``-5`` retries it at once. Nothing
here raises.

``bounded`` is the project's one bound on a delay; the job runtime's retry decision applies
the same bound (``jobs/retry.py``) and must keep agreeing with it.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping

MAX_DELAY_SECONDS = 86_400.0
"""The longest any job waits before it runs again: one day, whatever a server asked for."""


def bounded(seconds: float | None) -> float | None:
    """Return ``seconds`` clamped into ``[0, MAX_DELAY_SECONDS]``; None when not finite."""
    if seconds is None or not math.isfinite(seconds):
        return None
    return min(max(float(seconds), 0.0), MAX_DELAY_SECONDS)


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Return the bounded wait a ``Retry-After`` asks for, else an exhausted rate limit's reset.

    ``Retry-After`` is seconds or an HTTP date; ``X-RateLimit-Reset`` (epoch seconds, as Zenodo
    and GitHub send it) counts only when ``X-RateLimit-Remaining`` is 0. None: nobody said.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    now = time.time() if now is None else now
    asked = _seconds_or_date(lowered.get("retry-after", ""), now)
    if asked is not None:
        return asked
    if lowered.get("x-ratelimit-remaining", "").strip() != "0":
        return None
    reset = _number(lowered.get("x-ratelimit-reset", ""))
    return bounded(reset - now) if reset is not None else None


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _seconds_or_date(text: str, now: float) -> float | None:
    if not text.strip():
        return None
    seconds = _number(text)
    if seconds is not None:
        return bounded(seconds)
    try:
        when = email.utils.parsedate_to_datetime(text.strip())
        return bounded(when.timestamp() - now)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None

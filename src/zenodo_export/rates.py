"""Rates written as text (``100/minute``, ``5000 per 1 hour``): one grammar, one parser.

The client's pacing (``ZENODO_EXPORT_RATE_LIMITS``) and the sandbox's limits
(``--rate-limit``) read the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PERIOD_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
"""Window lengths a rate may name, in seconds."""

_RATE = re.compile(r"(\d+)\s*(?:/|per)\s*(?:1\s*)?(second|minute|hour|day)s?")


@dataclass(frozen=True)
class Rate:
    """At most ``amount`` requests per ``period`` (``second``, ``minute``, ``hour``, ``day``)."""

    amount: int
    period: str

    @property
    def seconds(self) -> int:
        """Return the window's length in seconds."""
        return PERIOD_SECONDS[self.period]

    def __str__(self) -> str:
        return f"{self.amount}/{self.period}"


def parse_rate(text: str) -> Rate:
    """Parse ``N/period`` or ``N per 1 period`` with N >= 1; ``ValueError`` naming the text."""
    match = _RATE.fullmatch(text.strip().lower())
    if match is None or int(match[1]) < 1:
        raise ValueError(f"{text.strip()!r} is not N/second, N/minute, N/hour or N/day with N >= 1")
    return Rate(int(match[1]), match[2])


def parse_rates(text: str) -> tuple[Rate, ...]:
    """Parse comma-separated rates; ``off`` (or nothing) is no rate at all."""
    if text.strip().lower() in ("", "off"):
        return ()
    return tuple(parse_rate(part) for part in text.split(","))

"""Every retry delay is finite and bounded, whatever a server asked for."""

from __future__ import annotations

import math
import random

import pytest

from zenodo_export.errors import Deferred, RateLimited, Rejected, Transient
from zenodo_export.jobs.retry import MAX_DELAY_SECONDS, bounded, decide

WILD = [1e12, math.inf, -math.inf, math.nan, -5.0, 0.0, 30.0]


@pytest.mark.parametrize("retry_after", WILD)
@pytest.mark.parametrize("error", [Transient, RateLimited, Deferred])
@pytest.mark.parametrize("attempt", [1, 4, 1000])
def test_decide_bounds_every_delay(
    error: type[Transient], retry_after: float, attempt: int
) -> None:
    """``decide`` never raises on a wild Retry-After; its delay is finite, in [0, MAX]."""
    decision = decide(
        error("slow down", retry_after=retry_after),
        attempt=attempt,
        max_attempts=10_000,
        base=15.0,
        rng=random.Random(1),
    )
    assert decision.action in ("retry", "postpone")
    assert math.isfinite(decision.delay)
    assert 0.0 <= decision.delay <= MAX_DELAY_SECONDS


@pytest.mark.parametrize("error", [Transient, RateLimited])
def test_a_huge_retry_after_is_clamped_to_the_maximum(error: type[Transient]) -> None:
    """A Retry-After of 1e12 s waits the maximum delay, not for ever."""
    decision = decide(error("x", retry_after=1e12), attempt=1, max_attempts=5, base=1.0)
    assert decision.delay == MAX_DELAY_SECONDS


def test_a_rate_limit_without_a_usable_retry_after_waits_the_default() -> None:
    """A rate limit whose Retry-After is not finite is postponed by the default, not at once."""
    for retry_after in (math.inf, math.nan, None):
        decision = decide(
            RateLimited("x", retry_after=retry_after), attempt=1, max_attempts=5, base=1.0
        )
        assert decision.action == "postpone"
        assert 0.0 < decision.delay <= MAX_DELAY_SECONDS


def test_a_negative_retry_after_means_now() -> None:
    """A negative Retry-After is clamped to zero."""
    decision = decide(RateLimited("x", retry_after=-5), attempt=1, max_attempts=5, base=1.0)
    assert (decision.action, decision.delay) == ("postpone", 0.0)


def test_a_huge_back_off_is_clamped() -> None:
    """Sidekiq's back-off for a very late attempt is clamped to the maximum delay."""
    decision = decide(Transient("x"), attempt=10_000, max_attempts=20_000, base=15.0)
    assert decision == decision.__class__("retry", MAX_DELAY_SECONDS)


def test_final_failures_do_not_wait() -> None:
    """A rejection, or the last attempt, fails at once."""
    assert decide(Rejected("no"), attempt=1, max_attempts=5, base=1.0).action == "fail"
    last = decide(Transient("x", retry_after=1e12), attempt=5, max_attempts=5, base=1.0)
    assert last.action == "fail"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (None, None),
        (math.inf, None),
        (-math.inf, None),
        (math.nan, None),
        (1e12, MAX_DELAY_SECONDS),
        (-5.0, 0.0),
        (12.5, 12.5),
    ],
)
def test_bounded(seconds: float | None, expected: float | None) -> None:
    """``bounded`` clamps finite seconds into [0, MAX] and refuses the rest with None."""
    assert bounded(seconds) == expected

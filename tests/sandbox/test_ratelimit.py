"""Conformance: per-token rate limits, their headers, and 429 with Retry-After."""

from __future__ import annotations

import time

import httpx

from tests.fixtures.sandbox import SandboxFactory
from tests.sandbox.helpers import client
from zenodo_export.sandbox import RunningSandbox
from zenodo_export.sandbox.config import parse_rate_limit
from zenodo_export.sandbox.ratelimit import decide


def _fresh_window(seconds: int) -> None:
    """Wait past the next window boundary if it is near, so a short burst stays in one window."""
    left = seconds - time.time() % seconds
    if left < 0.5:
        time.sleep(left + 0.01)


def test_every_api_answer_carries_the_rate_limit_headers(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    """200, 403 and 404 answers all carry X-RateLimit-*; the default limit is 100."""
    answers = [
        api.get("deposit/depositions"),
        httpx.get(f"{sandbox.api_url}deposit/depositions"),
        api.get("deposit/depositions/424242"),
    ]
    for response in answers:
        assert response.headers["X-RateLimit-Limit"] == "100"
        assert int(response.headers["X-RateLimit-Remaining"]) < 100
        assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time())


def test_requests_over_the_limit_get_429_with_retry_after(sandbox_factory: SandboxFactory) -> None:
    """The request after N in a window gets 429, Retry-After and '3 per 1 minute'."""
    _fresh_window(60)
    sandbox = sandbox_factory(rate_limits=["3/minute"])
    with client(sandbox) as api:
        remaining = [
            api.get("deposit/depositions").headers["X-RateLimit-Remaining"] for _ in range(3)
        ]
        assert remaining == ["2", "1", "0"]
        refused = api.get("deposit/depositions")
        assert refused.status_code == 429
        assert refused.json() == {"status": 429, "message": "3 per 1 minute"}
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        assert sandbox.admin("GET", "stats")["rate_limited"] == 1


def test_limits_count_per_token(sandbox_factory: SandboxFactory) -> None:
    """One token running out does not limit another token."""
    _fresh_window(60)
    sandbox = sandbox_factory(tokens=["a", "b"], rate_limits=["2/minute"])
    with client(sandbox, "a") as first, client(sandbox, "b") as second:
        for _ in range(3):
            first.get("deposit/depositions")
        assert first.get("deposit/depositions").status_code == 429
        assert second.get("deposit/depositions").status_code == 200


def test_a_window_resets(sandbox_factory: SandboxFactory) -> None:
    """After the window ends, requests pass again."""
    _fresh_window(1)
    sandbox = sandbox_factory(rate_limits=["2/second"])
    with client(sandbox) as api:
        codes = [api.get("deposit/depositions").status_code for _ in range(3)]
        assert codes[-1] == 429
        time.sleep(1.05)
        assert api.get("deposit/depositions").status_code == 200


def test_admin_endpoints_are_not_limited(sandbox_factory: SandboxFactory) -> None:
    """/_sandbox/ calls neither count nor get limited."""
    sandbox = sandbox_factory(rate_limits=["1/minute"])
    for _ in range(3):
        response = httpx.get(f"{sandbox.admin_url}stats")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers


def test_limits_change_at_run_time(sandbox: RunningSandbox, api: httpx.Client) -> None:
    """POST /_sandbox/settings changes the limits of a running sandbox."""
    _fresh_window(60)
    sandbox.settings(rate_limits=["1/minute"])
    assert api.get("deposit/depositions").status_code == 200
    assert api.get("deposit/depositions").status_code == 429


def test_the_tightest_limit_is_reported() -> None:
    """With 100/minute and 5000/hour the headers report whichever is closer to running out."""
    limits = (parse_rate_limit("100/minute"), parse_rate_limit("5000/hour"))
    decision, counts = decide({}, limits, now=7200.0)
    assert (decision.allowed, decision.limit.amount, decision.remaining) == (True, 100, 99)
    counts[3600] = (7200.0, 4999)
    decision, _ = decide(counts, limits, now=7201.0)
    assert (decision.limit.amount, decision.remaining) == (5000, 0)
    refused, _ = decide(_, limits, now=7202.0)
    assert (refused.allowed, refused.reset) == (False, 10800.0)

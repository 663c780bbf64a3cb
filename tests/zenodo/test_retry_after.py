"""Every Retry-After is finite and bounded: 1e12, inf, nan, -5, garbage and dates never crash.

The values come from a real HTTP server in a thread answering 429 to everything, read by the
real Zenodo client, and then through a whole export job run by a burst worker: the job is
postponed by at most a day (``MAX_DELAY_SECONDS``) and the worker carries on.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from tests.pipeline.conftest import queue, run_burst
from zenodo_export.errors import RateLimited
from zenodo_export.http_delays import MAX_DELAY_SECONDS, bounded, retry_after_seconds
from zenodo_export.jobs import retry
from zenodo_export.settings import Settings
from zenodo_export.store import Job, Store, get_export
from zenodo_export.zenodo.client import ZenodoClient

NOW = 1_800_000_000.0
"""A fixed clock for the pure cases (2027-01-15)."""


def http_date(seconds_from_now: float) -> str:
    """Return the HTTP date ``seconds_from_now`` after the real clock."""
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds_from_now)
    return email.utils.format_datetime(moment, usegmt=True)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("39", 39.0),
        ("1.5", 1.5),
        ("1e12", MAX_DELAY_SECONDS),
        ("1e400", None),  # a float that overflows to inf
        ("inf", None),
        ("-inf", None),
        ("nan", None),
        ("-5", 0.0),
        ("soon", None),
        ("", None),
        ("Fri, 15 Jan 2027 08:01:40 GMT", 100.0),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_DELAY_SECONDS),
        ("Fri, 99 Foo 2027 99:99:99 GMT", None),
    ],
)
def test_retry_after_is_finite_and_bounded(value: str, expected: float | None) -> None:
    """Seconds or a date; not finite or unreadable is None; the rest clamped to [0, one day]."""
    assert retry_after_seconds({"Retry-After": value}, now=NOW) == expected


@pytest.mark.parametrize(
    "reset,expected", [("1800000030", 30.0), ("1e30", MAX_DELAY_SECONDS), ("nan", None)]
)
def test_exhausted_rate_limit_reset_is_bounded_too(reset: str, expected: float | None) -> None:
    """X-RateLimit-Reset counts only when nothing remains, and is bounded like Retry-After."""
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset, "Retry-After": "x"}
    assert retry_after_seconds(headers, now=NOW) == expected


def test_the_job_runtime_applies_the_same_bound() -> None:
    """The retry decision bounds delays exactly as the parser does (one day)."""
    assert retry.MAX_DELAY_SECONDS == MAX_DELAY_SECONDS == 86_400.0
    for seconds in (1e12, float("inf"), float("nan"), -5.0, 30.0):
        assert retry.bounded(seconds) == bounded(seconds)


class TooManyRequests(BaseHTTPRequestHandler):
    """Answers every request with 429 and the server's ``retry_after`` header."""

    def _answer(self) -> None:
        body = b'{"status": 429, "message": "100 per 1 minute"}'
        self.send_response(429)
        self.send_header("Retry-After", getattr(self.server, "retry_after", ""))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet."""


@pytest.fixture
def limited() -> Iterator[ThreadingHTTPServer]:
    """A real HTTP server in a thread that answers 429 to everything."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), TooManyRequests)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def api_url(server: ThreadingHTTPServer) -> str:
    """Return the server's URL as a ``ZENODO_URL``."""
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/api/"


def refusal(server: ThreadingHTTPServer) -> RateLimited:
    """Ask the server for depositions with the real client; return the RateLimited raised."""
    client = ZenodoClient(api_url(server), "token", timeout=5)
    with client, pytest.raises(RateLimited) as caught:
        client.list_depositions(size=1)
    return caught.value


HOSTILE = [
    ("1e12", MAX_DELAY_SECONDS),
    ("inf", None),
    ("nan", None),
    ("-5", 0.0),
    ("garbage", None),
]
"""Retry-After values that used to crash the failure path, and what the client reads."""


@pytest.mark.parametrize("value,expected", HOSTILE)
def test_client_raises_rate_limited_with_a_bounded_wait(
    limited: ThreadingHTTPServer, value: str, expected: float | None
) -> None:
    """A 429 from Zenodo is RateLimited, its wait read once and bounded (None: not said)."""
    limited.retry_after = value  # type: ignore[attr-defined]
    assert refusal(limited).retry_after == expected


def test_client_reads_a_date(limited: ThreadingHTTPServer) -> None:
    """A Retry-After date two minutes ahead is about 120 s."""
    limited.retry_after = http_date(120)  # type: ignore[attr-defined]
    wait = refusal(limited).retry_after
    assert wait is not None and 100 <= wait <= 121


@pytest.mark.parametrize(
    "value,delay",
    [
        ("1e12", MAX_DELAY_SECONDS),
        ("inf", retry.DEFAULT_POSTPONE_SECONDS),
        ("nan", retry.DEFAULT_POSTPONE_SECONDS),
        ("garbage", retry.DEFAULT_POSTPONE_SECONDS),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_DELAY_SECONDS),
    ],
)
def test_export_job_is_postponed_by_a_bounded_delay(
    limited: ThreadingHTTPServer,
    sqlite_store: Store,
    tmp_path: Path,
    value: str,
    delay: float,
) -> None:
    """The export's job waits at most a day, uses no attempt, and the worker carries on."""
    limited.retry_after = value  # type: ignore[attr-defined]
    data = tmp_path / "files" / "data.csv"
    data.parent.mkdir()
    data.write_text("a,b\n1,2\n")
    settings = Settings(
        data_dir=tmp_path / "data",
        zenodo_url=api_url(limited),
        zenodo_token=SecretStr("token"),
        rate_limits=(),
        poll_interval=0.05,
        http_timeout=5.0,
    )
    export_id = queue(sqlite_store, [data])
    tally = run_burst(sqlite_store, settings)
    assert tally.counts.get("postpone") == 1
    with sqlite_store.transaction() as session:
        job = session.scalars(select(Job).where(Job.export_id == export_id)).one()
        waits = (job.run_at - dt.datetime.now(dt.UTC)).total_seconds()
        assert (job.status, job.attempts) == ("queued", 0)
        assert get_export(session, export_id).state != "failed"
    assert delay - 30 <= waits <= delay + 1

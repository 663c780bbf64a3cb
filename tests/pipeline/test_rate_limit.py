"""One rate limit for all workers sharing a token: 4 worker processes, 1 PostgreSQL, 1 sandbox.

The sandbox allows 10 requests a second per token (fixed windows, like Zenodo's limiter).
Twenty exports make 60 requests, far more than 10 a second when nothing paces them (about
100 answers are 429s then). The workers run until every export has ended, not with
``--burst``: a burst worker exits while a 429-postponed job waits for its Retry-After.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.cli import CLI, sandbox_environment
from tests.pipeline.conftest import queue
from zenodo_export.errors import DatabaseUnavailable
from zenodo_export.jobs import list_jobs
from zenodo_export.jobs.retry import decide
from zenodo_export.settings import Settings
from zenodo_export.store import Store, count_exports
from zenodo_export.zenodo.factory import client_factory

EXPORTS = 20
"""Exports queued per test: 3 requests each (create, upload, publish)."""

WORKERS = 4
"""Worker processes sharing the token."""

SANDBOX_LIMIT = ["10/second"]
"""The sandbox's own limit per token."""


def queue_exports(store: Store, make_file: Callable[..., Path]) -> None:
    """Queue ``EXPORTS`` one-file exports of distinct names (so none waits for another)."""
    for number in range(EXPORTS):
        queue(store, [make_file(f"part-{number}.csv", size=200)], name=f"report-{number}")


def run_workers(store: Store, env: dict[str, str], tmp_path: Path, *, timeout: float) -> float:
    """Run ``WORKERS`` worker processes until every export is done or failed; return the time."""
    started = time.monotonic()
    with (tmp_path / "workers.log").open("ab") as log:
        workers = [
            subprocess.Popen([*CLI, "worker"], env=env, cwd=tmp_path, stdout=log, stderr=log)
            for _ in range(WORKERS)
        ]
    try:
        while _unfinished(store) and time.monotonic() - started < timeout:
            time.sleep(0.1)
        elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=30) for worker in workers]
    assert codes == [0] * WORKERS, (tmp_path / "workers.log").read_text()
    return elapsed


def _unfinished(store: Store) -> int:
    with store.transaction() as session:
        return count_exports(session, "pending") + count_exports(session, "processing")


def stats(sandbox: Any) -> dict[str, Any]:
    """Return the sandbox's request counts."""
    response = httpx.get(f"{sandbox.base_url}/_sandbox/stats")
    response.raise_for_status()
    return dict(response.json())


def worker_env(sandbox: Any, tmp_path: Path, postgres_url: str, **extra: str) -> dict[str, str]:
    """The environment of the worker processes: one database, one token, no back-off sleeps."""
    env = sandbox_environment(sandbox, tmp_path, **extra)
    env["DATABASE_URL"] = postgres_url
    assert env["ZENODO_EXPORT_RETRY_DELAY_SCALE"] == "0"
    return env


@pytest.mark.postgres
@pytest.mark.slow
def test_a_budget_below_the_limit_never_meets_a_429(
    postgres_store: Store,
    postgres_url: str,
    sandbox_factory: Any,
    make_file: Callable[..., Path],
    tmp_path: Path,
) -> None:
    """Four workers paced at 8/second against a 10/second limit: all done, not one 429."""
    sandbox = sandbox_factory(rate_limits=SANDBOX_LIMIT)
    queue_exports(postgres_store, make_file)
    env = worker_env(sandbox, tmp_path, postgres_url, ZENODO_EXPORT_RATE_LIMITS="8/second")
    elapsed = run_workers(postgres_store, env, tmp_path, timeout=20)
    seen = stats(sandbox)
    with postgres_store.transaction() as session:
        assert count_exports(session, "done") == EXPORTS
    assert seen["rate_limited"] == 0, seen
    assert seen["requests"] >= 3 * EXPORTS
    # The budget was used: the requests beyond the first second's 8 took their turns.
    assert elapsed >= (seen["requests"] - 8) / 8


@pytest.mark.postgres
@pytest.mark.slow
def test_a_budget_above_the_limit_backs_off_without_using_attempts(
    postgres_store: Store,
    postgres_url: str,
    sandbox_factory: Any,
    make_file: Callable[..., Path],
    tmp_path: Path,
) -> None:
    """Paced at 30/second against 10/second: 429s come, jobs are postponed, all end done."""
    sandbox = sandbox_factory(rate_limits=SANDBOX_LIMIT)
    queue_exports(postgres_store, make_file)
    env = worker_env(
        sandbox,
        tmp_path,
        postgres_url,
        ZENODO_EXPORT_RATE_LIMITS="30/second",
        ZENODO_EXPORT_MAX_ATTEMPTS="1",
    )
    run_workers(postgres_store, env, tmp_path, timeout=20)
    seen = stats(sandbox)
    with postgres_store.transaction() as session:
        assert count_exports(session, "done") == EXPORTS
        attempts = {job.attempts for job in list_jobs(session, status="done")}
    assert seen["rate_limited"] > 0, seen
    assert attempts == {1}


def test_a_database_outage_while_pacing_is_transient_and_sends_nothing(
    sandbox: Any, tmp_path: Path
) -> None:
    """A paced client whose database is down raises DatabaseUnavailable before any request; the
    job is postponed without using an attempt."""
    store = Store.open("postgresql://postgres@127.0.0.1:1/zx", migrate=False)
    settings = Settings(
        zenodo_url=sandbox.api_url, zenodo_token=sandbox.token, rate_limits="100/minute"
    )
    try:
        with (
            client_factory(settings, store=store)() as client,
            pytest.raises(DatabaseUnavailable) as raised,
        ):
            client.get_deposition(1)
    finally:
        store.dispose()
    assert str(raised.value).startswith("database unavailable: ")
    assert decide(raised.value, attempt=1, max_attempts=3, base=0.0).action == "postpone"
    assert stats(sandbox)["requests"] == 0

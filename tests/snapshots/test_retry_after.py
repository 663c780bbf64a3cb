"""A crawled API's Retry-After is finite and bounded: the snapshot job waits at most a day.

``1e12``, ``inf``, ``nan``, ``-5``, garbage and dates from a real API (429, or 503 with
Retry-After) postpone the job without using an attempt, and the burst worker carries on.
"""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest
from sqlalchemy import select

from tests.pipeline.conftest import run_burst
from tests.snapshots.api_server import ApiServer
from tests.snapshots.conftest import alert_messages, dump_pages, read_export
from zenodo_export.http_delays import MAX_DELAY_SECONDS
from zenodo_export.jobs.retry import DEFAULT_POSTPONE_SECONDS
from zenodo_export.settings import Settings
from zenodo_export.snapshots import KIND, SnapshotRequest, create_snapshot
from zenodo_export.store import Job, Store


def far_future() -> str:
    """Return an HTTP date in the year 9999."""
    return email.utils.format_datetime(dt.datetime(9999, 12, 31, tzinfo=dt.UTC), usegmt=True)


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize(
    "value,delay",
    [
        ("1e12", MAX_DELAY_SECONDS),
        ("inf", DEFAULT_POSTPONE_SECONDS),
        ("nan", DEFAULT_POSTPONE_SECONDS),
        ("garbage", DEFAULT_POSTPONE_SECONDS),
        (far_future(), MAX_DELAY_SECONDS),
    ],
)
def test_snapshot_job_is_postponed_by_a_bounded_delay(
    status: int,
    value: str,
    delay: float,
    api: ApiServer,
    sqlite_store: Store,
    crawl_settings: Settings,
) -> None:
    """The chunk's job waits the bounded delay (or the default), with no attempt used."""
    api.state.faults[("meta", 2)] = f"{status}-once:{value}"
    request = SnapshotRequest(url=api.url("meta"), pages_per_job=2)
    snapshot_id = create_snapshot(sqlite_store, crawl_settings, request)
    tally = run_burst(sqlite_store, crawl_settings)
    assert tally.counts.get("postpone") == 1
    with sqlite_store.transaction() as session:
        job = session.scalars(select(Job).where(Job.kind == KIND)).one()
        waits = (job.run_at - dt.datetime.now(dt.UTC)).total_seconds()
        assert (job.status, job.attempts) == ("queued", 0)
    assert delay - 30 <= waits <= delay + 1
    assert read_export(sqlite_store, snapshot_id).state != "failed"
    assert alert_messages(sqlite_store, snapshot_id) == []


def test_negative_retry_after_retries_at_once_and_completes(
    api: ApiServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """``Retry-After: -5`` is no wait at all: the same burst fetches the page again and ends."""
    api.state.faults[("meta", 3)] = "429-once:-5"
    request = SnapshotRequest(url=api.url("meta"), pages_per_job=2)
    snapshot_id = create_snapshot(sqlite_store, crawl_settings, request)
    tally = run_burst(sqlite_store, crawl_settings)
    snapshot = read_export(sqlite_store, snapshot_id)
    assert tally.counts.get("postpone") == 1
    assert snapshot.state == "done", snapshot.last_error
    assert dump_pages(snapshot) == api.expected("meta")
    assert api.state.hits[("meta", 3)] == 2

"""Pages that fail: a bad body or a 4xx fails the snapshot naming the page; a 5xx is retried."""

from __future__ import annotations

import pytest

from tests.snapshots.api_server import ApiServer
from tests.snapshots.conftest import alert_messages, dump_pages, finished
from zenodo_export.settings import Settings
from zenodo_export.snapshots import SnapshotRequest, create_snapshot
from zenodo_export.snapshots.pagination import page_url
from zenodo_export.store import Store


@pytest.mark.parametrize(
    "fault,reason",
    [("not-json", "the body is not JSON"), ("404", "answered 404")],
)
def test_bad_page_fails_the_snapshot_naming_its_url(
    fault: str, reason: str, api: ApiServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A non-JSON body or a 4xx fails the snapshot at once, with an alert naming the page URL."""
    api.state.faults[("meta", 4)] = fault
    snapshot_id = create_snapshot(
        sqlite_store, crawl_settings, SnapshotRequest(url=api.url("meta"), pages_per_job=2)
    )
    snapshot = finished(sqlite_store, crawl_settings, snapshot_id)
    assert snapshot.state == "failed"
    bad_url = page_url(api.url("meta"), 4)
    [message] = alert_messages(sqlite_store, snapshot_id)
    assert f"page {bad_url}: {reason}" in message
    assert bad_url in (snapshot.last_error or "")
    assert api.state.hits[("meta", 4)] == 1, "a rejected page is not retried"
    assert api.state.hits[("meta", 5)] == 0


def test_a_server_error_is_retried_and_the_snapshot_completes(
    api: ApiServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A page answering 500 once is fetched again and the dump is whole, without duplicates."""
    api.state.faults[("cursor", 3)] = "500-once"
    snapshot_id = create_snapshot(
        sqlite_store, crawl_settings, SnapshotRequest(url=api.url("cursor"), pages_per_job=2)
    )
    snapshot = finished(sqlite_store, crawl_settings, snapshot_id)
    assert snapshot.state == "done", snapshot.last_error
    assert dump_pages(snapshot) == api.expected("cursor")
    assert api.state.hits[("cursor", 3)] == 2
    assert alert_messages(sqlite_store, snapshot_id) == []


def test_exhausted_retries_fail_the_snapshot_naming_the_page(
    api: ApiServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A page that keeps answering 500 fails the snapshot after the last attempt, naming it."""
    api.state.faults[("linked", 2)] = "500"
    snapshot_id = create_snapshot(
        sqlite_store, crawl_settings, SnapshotRequest(url=api.url("linked"))
    )
    snapshot = finished(sqlite_store, crawl_settings, snapshot_id)
    assert snapshot.state == "failed"
    assert api.state.hits[("linked", 2)] == crawl_settings.max_attempts
    [message] = alert_messages(sqlite_store, snapshot_id)
    assert "page=2" in message and "server error 500" in message


def test_a_failed_snapshot_is_retried_from_where_it_stopped(
    api: ApiServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """`retry` on a failed snapshot queues its crawl again; it resumes and the dump is whole."""
    from zenodo_export.exports.service import retry_export

    api.state.faults[("cursor", 3)] = "500"
    snapshot_id = create_snapshot(
        sqlite_store, crawl_settings, SnapshotRequest(url=api.url("cursor"), pages_per_job=2)
    )
    assert finished(sqlite_store, crawl_settings, snapshot_id).state == "failed"
    first_page_hits = api.state.hits[("cursor", 1)]
    del api.state.faults[("cursor", 3)]
    retry_export(sqlite_store, snapshot_id)
    snapshot = finished(sqlite_store, crawl_settings, snapshot_id)
    assert snapshot.state == "done", snapshot.last_error
    assert dump_pages(snapshot) == api.expected("cursor")
    assert api.state.hits[("cursor", 1)] == first_page_hits  # the first chunk was not redone

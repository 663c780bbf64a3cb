"""Crawling a real paginated API: every page exactly once, in order, for each style."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest

from tests.snapshots.api_server import ApiServer
from tests.snapshots.conftest import dump_pages, finished
from zenodo_export.errors import InvalidExport
from zenodo_export.jobs.queue import list_jobs
from zenodo_export.settings import Settings
from zenodo_export.snapshots import SnapshotRequest, create_snapshot, parse_request
from zenodo_export.store import Store

PAGED_STYLES = ("meta", "cursor", "linked")


@pytest.mark.parametrize("style", PAGED_STYLES)
def test_every_page_once_in_order(
    style: str, api: ApiServer, store: Store, crawl_settings: Settings
) -> None:
    """Each pagination style yields every page exactly once, in page order, chunk by chunk."""
    api.state.pages = 8
    snapshot_id = create_snapshot(
        store, crawl_settings, SnapshotRequest(url=api.url(style), pages_per_job=3, concurrency=4)
    )
    snapshot = finished(store, crawl_settings, snapshot_id)
    assert snapshot.state == "done", snapshot.last_error
    assert dump_pages(snapshot) == api.expected(style)
    assert sorted(api.state.hits.values()) == [1] * 8
    assert snapshot.data["cursor"]["pages_done"] == 8
    assert len(snapshot.data["cursor"]["parts"]) == 3


def test_a_page_without_paging_is_the_only_page(
    api: ApiServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A body with no paging information is a one-page snapshot."""
    snapshot_id = create_snapshot(
        sqlite_store, crawl_settings, SnapshotRequest(url=api.url("single"))
    )
    snapshot = finished(sqlite_store, crawl_settings, snapshot_id)
    assert dump_pages(snapshot) == api.expected("single")
    assert snapshot.data["cursor"]["style"] == "single"


@pytest.mark.parametrize("style", ["meta", "linked"])
def test_start_and_stop_page(
    style: str, api: ApiServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """``start_page`` and ``stop_page`` bound the crawl, both included."""
    api.state.pages = 9
    snapshot_id = create_snapshot(
        sqlite_store,
        crawl_settings,
        SnapshotRequest(url=api.url(style), start_page=3, stop_page=7, pages_per_job=2),
    )
    snapshot = finished(sqlite_store, crawl_settings, snapshot_id)
    assert dump_pages(snapshot) == api.expected(style, 3, 7)
    assert sorted(page for _, page in api.state.hits) == [3, 4, 5, 6, 7]


def test_files_are_named_and_zipped_as_lagotto_did(
    api: ApiServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """The dump is ``api_works_<date>.jsondump`` in ``snapshot_<date>``, zipped with a README."""
    day = dt.date(2026, 3, 14)
    snapshot_id = create_snapshot(
        sqlite_store, crawl_settings, SnapshotRequest(url=api.url("meta")), today=day
    )
    snapshot = finished(sqlite_store, crawl_settings, snapshot_id)
    dump = Path(snapshot.data["files"]["dump"])
    assert dump.name == "api_works_2026-03-14.jsondump"
    assert "snapshot_2026-03-14" in dump.parts
    assert snapshot.name == "127.0.0.1_api_works"
    with zipfile.ZipFile(snapshot.data["files"]["zip"]) as archive:
        assert sorted(archive.namelist()) == ["README.md", dump.name]
        assert archive.read(dump.name) == dump.read_bytes()
        assert dump.name in archive.read("README.md").decode()
    assert not (dump.parent / "parts").exists()


def test_benchmark_writes_one_timing_line_per_page(
    api: ApiServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """``benchmark`` writes a side file with one ``<url> took <N> seconds`` line per page."""
    api.state.latency = 0.02
    snapshot_id = create_snapshot(
        sqlite_store,
        crawl_settings,
        SnapshotRequest(url=api.url("meta"), pages_per_job=2, benchmark=True),
    )
    snapshot = finished(sqlite_store, crawl_settings, snapshot_id)
    lines = Path(snapshot.data["files"]["benchmark"]).read_text().splitlines()
    assert len(lines) == 5
    for number, line in enumerate(lines, start=1):
        match = re.fullmatch(r"(\S+) took (\d+\.\d+) seconds", line)
        assert match is not None, line
        assert match.group(1).endswith(f"page={number}")
        assert float(match.group(2)) >= 0.02


@pytest.mark.parametrize(
    "url,options,field",
    [
        ("ftp://example.org/api/works", {}, "url"),
        ("works", {}, "url"),
        ("http://example.org/api", {"pages_per_job": 0}, "pages_per_job"),
        ("http://example.org/api", {"concurrency": 0}, "concurrency"),
        ("http://example.org/api", {"start_page": 4, "stop_page": 2}, "stop_page"),
        ("http://example.org/api", {"upload": True}, "creators"),
    ],
)
def test_bad_url_or_option_is_refused(
    url: str, options: dict[str, object], field: str, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A bad URL or option is refused at creation, naming it, and nothing is queued."""
    with pytest.raises(InvalidExport) as caught:
        create_snapshot(sqlite_store, crawl_settings, parse_request({"url": url, **options}))
    assert caught.value.field == field
    assert "\n" not in str(caught.value)
    with sqlite_store.transaction() as session:
        assert list_jobs(session) == []

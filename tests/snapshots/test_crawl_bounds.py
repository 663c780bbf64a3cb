"""How far a crawl may go: bytes, time and pages per page and per snapshot, loops, concurrency."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.snapshots.conftest import crawl, dump_pages, failure
from tests.snapshots.hostile_server import (
    HostileServer,
    drip,
    gzip_bomb,
    gzipped,
    json_page,
    raw,
)
from zenodo_export.settings import Settings
from zenodo_export.snapshots.pagination import page_url
from zenodo_export.store import Store

pytestmark = pytest.mark.hostile


def test_a_page_over_the_cap_fails_the_snapshot(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A page larger than ``crawl_max_page_bytes`` fails the snapshot, naming the page."""
    start = home.route("/api", json_page({"data": ["x" * 5000]}))
    settings = crawl_settings.model_copy(update={"crawl_max_page_bytes": 1000})
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert f"page {page_url(start, 1)}: larger than 1000 bytes" in message
    assert len(home.requests) == 1, "a page over the cap is not retried"


def test_a_gzip_bomb_is_refused_at_the_cap(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """64 MiB of gzip-inflated blanks stop at the 1 MiB cap, fast (nothing inflated first)."""
    start = home.route("/api", gzip_bomb(64 * 1024 * 1024))
    settings = crawl_settings.model_copy(update={"crawl_max_page_bytes": 1024 * 1024})
    began = time.monotonic()
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert "larger than 1048576 bytes" in message
    assert time.monotonic() - began < 5


def test_a_gzipped_page_is_inflated_into_the_dump(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A gzip page under the cap is stored inflated."""
    start = home.route("/api", gzipped({"data": ["é", "\n"]}))
    snapshot = crawl(sqlite_store, crawl_settings, start)
    assert snapshot.state == "done", snapshot.last_error
    assert dump_pages(snapshot) == [{"data": ["é", "\n"]}]


def test_a_dripping_server_is_cut_off_by_the_page_deadline(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """One byte every 0.5 s (each read on time) fails at the page's total deadline."""
    start = home.route("/api", drip(b'{"data": [1, 2, 3, 4, 5, 6, 7, 8]}', every=0.5))
    settings = crawl_settings.model_copy(update={"crawl_page_seconds": 1.5})
    began = time.monotonic()
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert "took longer than 1.5 s in all" in message
    assert time.monotonic() - began < 5


def test_a_next_link_loop_fails_the_snapshot(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A next link back to a page already fetched is a loop: the snapshot fails, naming it."""
    back = home.base_url + "/a"
    home.route("/a", json_page({"data": [1], "links": {"next": "/b"}}))
    home.route("/b", json_page({"data": [2], "links": {"next": "/a?page=1"}}))
    snapshot = crawl(sqlite_store, crawl_settings, back, pages_per_job=1)
    message = failure(sqlite_store, snapshot)
    assert f"page {back}?page=1: a next link leads back to a page already fetched" in message
    assert home.requests == ["/a?page=1", "/b"]


def test_the_page_limit_of_a_snapshot(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """An endless chain of next links stops at ``crawl_max_pages``."""

    def endless(handler: Any) -> None:
        number = int(handler.path.partition("n=")[2] or 0)
        json_page({"data": [number], "links": {"next": f"/api?n={number + 1}"}})(handler)

    start = home.route("/api", endless)
    settings = crawl_settings.model_copy(update={"crawl_max_pages": 4})
    message = failure(sqlite_store, crawl(sqlite_store, settings, start, pages_per_job=3))
    assert "the snapshot reached its limit of 4 page(s)" in message
    assert len(home.requests) == 4


def test_the_byte_limit_of_a_snapshot(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """Pages adding up to more than ``crawl_max_snapshot_bytes`` stop the crawl."""
    body = {"meta": {"total_pages": 10}, "data": ["x" * 400]}
    start = home.route("/api", json_page(body))
    settings = crawl_settings.model_copy(update={"crawl_max_snapshot_bytes": 1000})
    message = failure(sqlite_store, crawl(sqlite_store, settings, start, pages_per_job=1))
    assert "the snapshot reached its limit of 1000 byte(s)" in message
    assert len(home.requests) == 3


def test_the_deadline_of_a_snapshot(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A crawl longer than ``crawl_snapshot_seconds`` fails at the next page."""

    def slow(handler: Any) -> None:
        time.sleep(0.3)
        json_page({"meta": {"total_pages": 50}, "data": []})(handler)

    start = home.route("/api", slow)
    settings = crawl_settings.model_copy(update={"crawl_snapshot_seconds": 0.5})
    message = failure(sqlite_store, crawl(sqlite_store, settings, start, pages_per_job=1))
    assert "the snapshot's crawl took longer than 0.5 s" in message
    assert len(home.requests) < 5


def test_concurrency_is_capped(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """``concurrency = 8`` asks for 8 pages at once; the deployer's cap of 2 wins."""

    def slow(handler: Any) -> None:
        time.sleep(0.1)
        json_page({"meta": {"total_pages": 8}, "data": []})(handler)

    start = home.route("/api", slow)
    settings = crawl_settings.model_copy(update={"crawl_max_concurrency": 2})
    snapshot = crawl(sqlite_store, settings, start, pages_per_job=8, concurrency=8)
    assert snapshot.state == "done", snapshot.last_error
    assert home.most_at_once == 2


@pytest.mark.parametrize(
    "body,headers,reason",
    [
        (b'{"data": [1]} {"more": 2}', {}, "after the document"),
        (b"<html>Maintenance</html>", {"Content-Type": "text/html"}, "the body is not JSON"),
        (b'{"data": [1, 2', {}, "cut short"),
        (b'{"data": "\xff\xfe"}', {}, "not UTF-8"),
        (b'{"data": "a\nb"}', {}, "raw line break"),
        (b'{"data": [1}', {}, "brackets do not match"),
        (b'"just a string"', {}, "not JSON"),
        (b"", {}, "not a JSON object or array"),
        (b'{"data": 1}', {"Content-Encoding": "br"}, "unsupported Content-Encoding"),
        (b'{"data": 1}', {"Content-Encoding": "gzip"}, "compressed body is broken"),
        (b'{"links": {"next": 1', {}, "cut short"),
    ],
)
def test_broken_bodies_fail_the_snapshot_naming_the_page(
    body: bytes,
    headers: dict[str, str],
    reason: str,
    home: HostileServer,
    sqlite_store: Store,
    crawl_settings: Settings,
) -> None:
    """Each broken body fails the snapshot at once with one line naming the page and why."""
    start = home.route("/api", raw(body, headers=headers))
    message = failure(sqlite_store, crawl(sqlite_store, crawl_settings, start))
    assert f"page {page_url(start, 1)}:" in message and reason in message
    assert len(home.requests) == 1


def test_a_body_shorter_than_its_content_length_is_retried_then_fails(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A server lying about ``Content-Length`` is a broken answer: retried, then one line."""
    start = home.route("/api", raw(b'{"data": []}', headers={"Content-Length": "500"}))
    settings = crawl_settings.model_copy(update={"http_timeout": 1.0})
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert f"page {page_url(start, 1)}:" in message
    assert len(home.requests) == settings.max_attempts


def test_json_nested_100000_deep_is_refused_without_recursion(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A document nested 100,000 deep is refused as it streams (no recursion), naming the page."""
    depth = 100_000
    start = home.route("/api", raw(b"[" * depth + b"]" * depth))
    message = failure(sqlite_store, crawl(sqlite_store, crawl_settings, start))
    assert f"page {page_url(start, 1)}: the JSON document is nested deeper than 512" in message


def test_json_nested_512_deep_is_taken(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """Nesting up to the limit is an ordinary page, stored as it came."""
    start = home.route("/api", raw(b"[" * 512 + b"]" * 512))
    snapshot = crawl(sqlite_store, crawl_settings, start)
    assert snapshot.state == "done", snapshot.last_error
    with open(snapshot.data["files"]["dump"], "rb") as stream:
        assert stream.read() == b"[" * 512 + b"]" * 512 + b"\n"


def test_pages_in_several_lines_become_one_line_each(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A pretty-printed page is stored on one line; escaped line breaks in strings stay."""
    body = {"meta": {"total_pages": 2}, "data": ["a\nb", {"k": [1, 2]}]}
    start = home.route("/api", raw(json.dumps(body, indent=2).encode()))
    snapshot = crawl(sqlite_store, crawl_settings, start)
    assert snapshot.state == "done", snapshot.last_error
    assert dump_pages(snapshot) == [body, body]


def test_loop_memory_is_bounded() -> None:
    """The cursor remembers at most ``LOOP_MEMORY`` fetched next links (its row stays small)."""
    from zenodo_export.snapshots.pagination import LOOP_MEMORY, Cursor, Paging, advance, is_loop

    cursor = Cursor(next_page=1)
    for number in range(LOOP_MEMORY + 5):
        paging = Paging(next_url=f"https://api.example.org/x?after={number + 1}")
        cursor = advance(
            cursor, paging, stop_page=None, url=f"https://api.example.org/x?after={number}"
        )
    assert len(cursor.seen) == LOOP_MEMORY
    assert is_loop(cursor, "https://api.example.org/x?after=100")
    assert not is_loop(cursor, "https://api.example.org/x?after=0")

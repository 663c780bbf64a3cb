"""Hostile APIs beyond the issue's list: each case ends in one line naming the page, or in a
page stored as the API meant it; nothing is requested where the crawl may not go.

``home`` (127.0.0.1) is the API a snapshot starts on; ``other`` (127.0.0.2) stands in for
another host. Every case runs a real crawl in this process against a real HTTP server.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.snapshots.conftest import crawl, dump_pages, failure, snapshot_settings
from tests.snapshots.hostile_server import Answer, HostileServer, json_page, raw, redirect
from zenodo_export.errors import InvalidExport
from zenodo_export.settings import Settings
from zenodo_export.snapshots import parse_request
from zenodo_export.snapshots.pagination import page_url
from zenodo_export.store import Store

pytestmark = pytest.mark.hostile


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Crawl settings with short time-outs, so that stalling servers end the case quickly."""
    return snapshot_settings(tmp_path, http_timeout=1.0, crawl_page_seconds=2.0)


def next_to(link: str, **extra: Any) -> Answer:
    """A first page whose ``links.next`` is ``link``."""
    return json_page({"data": [1], "links": {"next": link}, **extra})


# -- next links that leave the start URL's host in disguise ---------------------------------


@pytest.mark.parametrize(
    "disguise",
    [
        "2130706433",  # 127.0.0.1 as one decimal number
        "0x7f.0.0.1",  # hexadecimal
        "0177.0.0.1",  # octal
        "127.1",  # short form
        "localhost",  # a name for the same address
        "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    ],
)
def test_the_start_address_in_disguise_is_another_host(
    disguise: str, home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """Another spelling of the start address is another origin: refused, nothing requested."""
    port = home.netloc.rpartition(":")[2]
    start = home.route("/api", next_to(f"http://{disguise}:{port}/secret"))
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert f"page {page_url(start, 1)}: " not in message or "not requested" in message
    assert "is not the start URL's host" in message
    assert home.requests == ["/api?page=1"], "the disguised link was requested"


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "data:application/json,{}", "mailto:x@example.org", "ws://127.0.0.1/"],
)
def test_next_links_of_other_schemes_are_refused(
    link: str, home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """A next link that is not http(s) fails the snapshot, naming it; nothing else is asked."""
    start = home.route("/api", next_to(link))
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert "not an http(s) URL" in message and "not requested" in message
    assert home.requests == ["/api?page=1"]


def test_a_scheme_relative_next_link_to_another_host_is_refused(
    home: HostileServer, other: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """``//other-host/x`` inherits the scheme, not the host: refused, the other host unasked."""
    start = home.route("/api", next_to(f"//{other.netloc}/x"))
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert f"http://127.0.0.2:{other.netloc.rpartition(':')[2]}" in message
    assert other.requests == []


def test_an_ipv4_mapped_metadata_address_is_link_local(
    home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """``[::ffff:169.254.169.254]`` is the cloud metadata address: refused even when allowed."""
    start = home.route("/api", next_to("http://[::ffff:a9fe:a9fe]/latest/meta-data/"))
    snapshot = crawl(sqlite_store, settings, start, allow_hosts=("[::ffff:a9fe:a9fe]",))
    assert "resolves to a link-local address" in failure(sqlite_store, snapshot)


def test_a_redirect_to_a_file_url_is_refused(
    home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """A redirect to ``file:///etc/passwd`` is refused, naming the page; the file is not read."""
    start = home.route("/api", redirect("file:///etc/passwd"))
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert "redirect to file:///etc/passwd refused" in message
    assert "root:" not in message


def test_a_redirect_from_https_style_port_to_another_port_is_refused(
    home: HostileServer, other: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """A 307 to the other host keeps nothing: refused before any request reaches it."""
    start = home.route("/api", redirect(other.route("/x", json_page({"data": []})), status=307))
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert "refused" in message and other.requests == []


def test_a_start_url_of_3000_characters_is_refused_at_creation() -> None:
    """A URL longer than the database column holds is refused before anything is stored."""
    with pytest.raises(InvalidExport, match="url: a URL longer than 2048 characters"):
        parse_request({"url": "http://127.0.0.1/api?q=" + "a" * 3000})


def test_a_next_link_of_20000_characters_is_refused(
    home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """An enormous next link is not requested nor stored in the job's cursor."""
    start = home.route("/api", next_to("/api?cursor=" + "a" * 20_000))
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert "a URL longer than 2048 characters" in message and len(message) < 1000
    assert home.requests == ["/api?page=1"]


def test_a_next_link_with_a_line_break_injects_no_header(
    home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """A next link holding ``\\r\\n`` cannot add a header to the request: refused or escaped."""
    start = home.route("/api", next_to("/api?x=1\r\nX-Injected: yes"))
    crawl(sqlite_store, settings, start)
    assert all("x-injected" not in headers for headers in home.headers)


def test_a_next_link_with_a_fragment_back_to_the_start_is_a_loop(
    home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """Two links differing only by ``#fragment`` are one page: the loop is found, not endless."""
    start = home.route("/a", next_to("/b#one"))
    home.route("/b", next_to("/a#two"))
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert "a next link leads back to a page already fetched (a loop)" in message
    assert home.requests == ["/a?page=1", "/b", "/a"]


# -- answers that lie or stall ---------------------------------------------------------------


def stall_before_headers(handler: BaseHTTPRequestHandler) -> None:
    """Accept the request and never answer (until the crawler hangs up)."""
    time.sleep(5)


def close_at_once(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection without a word."""
    handler.close_connection = True
    handler.connection.shutdown(2)


def written(data: bytes) -> Answer:
    """Answer with ``data`` exactly as given: status line, headers and body by hand."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(data)
        handler.wfile.flush()
        handler.close_connection = True

    return answer


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(stall_before_headers, id="stalls-before-headers"),
        pytest.param(close_at_once, id="closes-without-answer"),
        pytest.param(written(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"), id="headers-cut"),
        pytest.param(written(b"NOT-HTTP garbage\r\n\r\n"), id="not-http"),
        pytest.param(
            written(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n{}"),
            id="header-of-200k",
        ),
        pytest.param(
            written(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"ffff\r\n" + b'{"data": [1, 2' + b"\r\n"
            ),
            id="chunk-cut",
        ),
    ],
)
def test_broken_answers_are_retried_then_fail_in_one_line(
    answer: Answer, home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """A broken or silent answer is a passing fault: retried, then one line naming the page."""
    start = home.route("/api", answer)
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert f"page {page_url(start, 1)}" in message
    assert len(home.requests) == settings.max_attempts


def test_an_unknown_status_code_fails_in_one_line(
    home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """A status no standard knows (``299``, ``600``) is not a page."""
    start = home.route("/api", written(b"HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\n{}"))
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert f"page {page_url(start, 1)}" in message


def test_a_body_longer_than_its_content_length_is_cut_where_it_said(
    home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """Bytes after the announced length are not part of the page (nor of the next one)."""
    body = b'{"data": [1]}'
    start = home.route(
        "/api", raw(body + b'{"smuggled": true}', headers={"Content-Length": str(len(body))})
    )
    snapshot = crawl(sqlite_store, settings, start)
    assert snapshot.state == "done", snapshot.last_error
    assert dump_pages(snapshot) == [{"data": [1]}]


@pytest.mark.parametrize(
    "body,reason",
    [
        (b'{"data": "a\x00b"}', "raw control character (0x00)"),
        (b'{"data": "\x1b[31mred"}', "raw control character (0x1b)"),
        (b'{"data": [1]\x00}', "not JSON"),
        (b"\xef\xbb\xbf" + b'{"data": [1]}', "not JSON"),  # a byte-order mark
        (b'{"data": "\xed\xa0\x80"}', "not UTF-8"),  # an encoded surrogate
        (b'{"data": "\xc0\xaf"}', "not UTF-8"),  # an overlong '/'
    ],
)
def test_bodies_no_json_reader_takes_are_refused(
    body: bytes, reason: str, home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """Control characters in strings, a BOM, overlong or surrogate UTF-8: one line, no retry."""
    start = home.route("/api", raw(body))
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert f"page {page_url(start, 1)}:" in message and reason in message
    assert len(home.requests) == 1


def test_gzip_inside_gzip_is_refused(
    home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """``Content-Encoding: gzip, gzip`` (a bomb in layers) is not inflated at all."""
    start = home.route("/api", raw(b"x", headers={"Content-Encoding": "gzip, gzip"}))
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert "unsupported Content-Encoding" in message


# -- paging information that lies ------------------------------------------------------------


def test_a_trillion_pages_stop_at_the_page_limit(
    home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """``total_pages: 10**12`` over the page limit fails before the second page is asked."""
    start = home.route("/api", json_page({"meta": {"total_pages": 10**12}, "data": [1]}))
    limited = settings.model_copy(update={"crawl_max_pages": 4})
    message = failure(sqlite_store, crawl(sqlite_store, limited, start))
    assert "the snapshot reached its limit of 4 page(s)" in message
    assert home.requests == ["/api?page=1"]


@pytest.mark.parametrize("total", [-5, 0, "7", True, 2.5, None, [3]])
def test_nonsense_page_counts_leave_one_page(
    total: Any, home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """A page count that is not a positive whole number asks for no page beyond the first."""
    start = home.route("/api", json_page({"meta": {"total_pages": total}, "data": [1]}))
    snapshot = crawl(sqlite_store, settings, start)
    assert snapshot.state == "done", snapshot.last_error
    assert len(dump_pages(snapshot)) == 1 and len(home.requests) == 1


@pytest.mark.parametrize("link", [123, {"href": 5}, ["a", "b"], "", {"rel": "next"}])
def test_next_links_that_are_not_urls_end_the_crawl(
    link: Any, home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """A ``links.next`` that is not a URL string means no next page, not an error."""
    start = home.route("/api", json_page({"data": [1], "links": {"next": link}}))
    snapshot = crawl(sqlite_store, settings, start)
    assert snapshot.state == "done", snapshot.last_error
    assert len(home.requests) == 1


def test_cookies_of_the_start_host_do_not_follow_to_another_host(
    home: HostileServer, other: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """A ``Set-Cookie`` from one host is never sent to another the crawl is allowed to follow."""
    last = other.route("/last", json_page({"data": [2]}))
    start = home.route(
        "/api", json_page({"data": [1], "links": {"next": last}}, headers={"Set-Cookie": "s=1"})
    )
    snapshot = crawl(sqlite_store, settings, start, allow_hosts=(other.netloc,))
    assert snapshot.state == "done", snapshot.last_error
    assert "cookie" not in other.headers[0]


def test_a_refused_page_keeps_the_pages_before_it_out_of_any_record(
    home: HostileServer, other: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """A snapshot refused half-way publishes nothing: no dump, no zip, no deposition."""
    second = home.route("/two", next_to(f"http://{other.netloc}/x"))
    start = home.route("/api", next_to(second))
    snapshot = crawl(sqlite_store, settings, start)
    failure(sqlite_store, snapshot)
    assert snapshot.deposition_id is None and snapshot.doi is None
    assert "files" not in snapshot.data
    assert other.requests == []


def test_a_page_answering_json_with_a_json_content_type_lie_is_still_checked(
    home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """``Content-Type: application/json`` on an HTML page does not make it JSON."""
    page = b"<!doctype html><script>alert(1)</script>"
    start = home.route("/api", raw(page, headers={"Content-Type": "application/json"}))
    assert "not JSON" in failure(sqlite_store, crawl(sqlite_store, settings, start))


def test_pages_as_json_lines_keep_their_values(
    home: HostileServer, sqlite_store: Store, settings: Settings
) -> None:
    """Escaped control characters and unicode stay as the API sent them (nothing is lost)."""
    body = {"data": ["tab\there", "nul\u0000", "é", "\U0001f600"]}
    start = home.route("/api", raw(json.dumps(body).encode()))
    snapshot = crawl(sqlite_store, settings, start)
    assert snapshot.state == "done", snapshot.last_error
    assert dump_pages(snapshot) == [body]

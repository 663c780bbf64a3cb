"""Pure decisions: what a page says comes next, the chunk plan, the file names."""

from __future__ import annotations

import httpx
import pytest

from zenodo_export.snapshots.pagination import (
    Cursor,
    Paging,
    advance,
    dump_name,
    endpoint_name,
    page_url,
    paging_of,
    planned_pages,
)

URL = "http://api.example.org/api/works?sort=created_at"


def test_lagotto_meta_gives_the_page_count() -> None:
    """``meta.total_pages`` makes a page-numbered crawl, even when a next link is present too."""
    body = {"meta": {"page": 1, "total_pages": 40}, "links": {"next": "/x"}}
    assert paging_of(body, link_next=None, url=URL) == Paging(total_pages=40)


def test_body_next_link_is_resolved_against_the_page_url() -> None:
    """A relative ``links.next`` (string or JSON:API object) becomes an absolute URL."""
    for found in ("/api/works?after=9", {"href": "/api/works?after=9"}):
        paging = paging_of({"links": {"next": found}}, link_next=None, url=URL)
        assert paging.next_url == "http://api.example.org/api/works?after=9"


def test_link_header_next_is_read_through_httpx() -> None:
    """An RFC 8288 header, as httpx parses it, gives the next URL; no next means the end."""
    header = '<https://x.org/a?page=3>; rel="next", <https://x.org/a?page=9>; rel="last"'
    response = httpx.Response(200, headers={"Link": header}, json=[])
    link_next = response.links.get("next", {}).get("url")
    assert paging_of([], link_next=link_next, url=URL).next_url == "https://x.org/a?page=3"
    assert paging_of({"links": {"next": None}}, link_next=None, url=URL) == Paging()


def test_a_page_without_paging_ends_the_crawl() -> None:
    """The first page without paging information is the only page."""
    cursor = advance(Cursor(next_page=1), Paging(), stop_page=None)
    assert (cursor.style, cursor.crawled, cursor.pages_done) == ("single", True, 1)


def test_page_numbered_plan_and_stop_page() -> None:
    """With the page count known, a chunk plans consecutive pages up to the stop page."""
    cursor = advance(Cursor(next_page=1), Paging(total_pages=40), stop_page=7)
    assert planned_pages(cursor, limit=4, stop_page=7) == [2, 3, 4, 5]
    cursor = Cursor(next_page=6, style="pages", total_pages=40)
    assert planned_pages(cursor, limit=4, stop_page=7) == [6, 7]
    assert advance(cursor, Paging(total_pages=40), stop_page=6).crawled


def test_link_style_is_planned_one_page_at_a_time() -> None:
    """Next links are followed one after the other, and ``stop_page`` counts them."""
    cursor = advance(Cursor(next_page=1), Paging(next_url="http://x/2"), stop_page=2)
    assert (cursor.style, cursor.next_url, cursor.crawled) == ("links", "http://x/2", False)
    assert planned_pages(cursor, limit=10, stop_page=2) == [2]
    assert advance(cursor, Paging(next_url="http://x/3"), stop_page=2).crawled


def test_cursor_round_trips_through_json_data() -> None:
    """The cursor stored in ``data`` reads back equal."""
    cursor = Cursor(next_page=4, style="links", next_url="http://x/4", parts=("part-1",))
    assert Cursor.from_data(cursor.to_data()) == cursor


@pytest.mark.parametrize(
    "url,name",
    [
        ("http://x.org/api/works", "api_works"),
        ("http://x.org/api/works/?page=2", "api_works"),
        ("http://x.org/", "x.org"),
        ("http://x.org/api/sources/crossref:events", "api_sources_crossref_events"),
    ],
)
def test_names_come_from_the_url_path(url: str, name: str) -> None:
    """The snapshot and its dump are named from the URL path, as Lagotto did."""
    assert endpoint_name(url) == name
    assert dump_name(url, "2026-03-14") == f"{name}_2026-03-14.jsondump"


def test_page_url_sets_the_page_parameter() -> None:
    """``page`` is set (or replaced) and other query parameters are kept."""
    assert page_url(URL, 3) == "http://api.example.org/api/works?sort=created_at&page=3"
    assert page_url(page_url(URL, 3), 4).endswith("&page=4")

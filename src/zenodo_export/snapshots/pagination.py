"""Pure decisions of an API snapshot: page URLs, what a page says comes next, the chunk plan.

Three pagination styles are understood, decided by the first page:

* ``pages``: Lagotto's ``meta.total_pages`` (and ``meta.page``) with a ``page`` query
  parameter; page numbers are known ahead, so a chunk's pages can be fetched concurrently;
* ``links``: a ``links.next`` URL in the body, or an RFC 8288 ``Link: <...>; rel="next"``
  header; each page names the next one, so they are fetched one after the other;
* ``single``: a page without paging information is the only page.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx

Style = Literal["pages", "links", "single"]


LOOP_MEMORY = 10_000
"""Fetched next-link URLs remembered to find loops (longer rounds end at the page limit)."""


@dataclass(frozen=True)
class Paging:
    """What one page says about the pages after it."""

    total_pages: int | None = None
    next_url: str | None = None


@dataclass(frozen=True)
class Cursor:
    """Where a snapshot's crawl stands: the next page to fetch and the parts written so far."""

    next_page: int
    next_url: str | None = None
    style: Style | None = None
    total_pages: int | None = None
    pages_done: int = 0
    parts: tuple[str, ...] = ()
    crawled: bool = False
    bytes_done: int = 0
    started_at: float | None = None
    seen: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        """Return the cursor as JSON-ready data."""
        return {**asdict(self), "parts": list(self.parts), "seen": list(self.seen)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Cursor:
        """Rebuild a cursor stored with ``to_data``."""
        extra = {"parts": tuple(data.get("parts", ())), "seen": tuple(data.get("seen", ()))}
        return cls(**{**data, **extra})


@dataclass(frozen=True)
class CrawlBounds:
    """The bounds of one snapshot: pages, bytes, and seconds since its crawl started."""

    max_pages: int
    max_bytes: int
    seconds: float


def url_digest(url: str) -> str:
    """Return the short digest a fetched URL is remembered by (to find next-link loops)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def bound_reached(cursor: Cursor, bounds: CrawlBounds, *, now: float) -> str | None:
    """Return which bound of the snapshot the cursor has reached, or None."""
    if cursor.pages_done >= bounds.max_pages:
        return f"the snapshot reached its limit of {bounds.max_pages} page(s)"
    if cursor.bytes_done > bounds.max_bytes:
        return f"the snapshot reached its limit of {bounds.max_bytes} byte(s)"
    if cursor.started_at is not None and now - cursor.started_at > bounds.seconds:
        return f"the snapshot's crawl took longer than {bounds.seconds:g} s"
    return None


def is_loop(cursor: Cursor, url: str) -> bool:
    """Return True when ``url`` was fetched before by this crawl (a next link going round)."""
    return cursor.style == "links" and url_digest(url) in cursor.seen


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _body_next(body: Any) -> str | None:
    links = body.get("links") if isinstance(body, dict) else None
    found = links.get("next") if isinstance(links, dict) else None
    if isinstance(found, dict):  # JSON:API allows a link object
        found = found.get("href")
    return found if isinstance(found, str) and found else None


def paging_of(body: Any, *, link_next: str | None, url: str) -> Paging:
    """Read a page's paging information: Lagotto's ``meta``, ``links.next``, or a Link header.

    ``meta.total_pages`` wins when present (page numbers allow concurrent fetches); relative
    next links are resolved against the page's ``url``; a ``#fragment`` is dropped (it is not
    sent, so two links differing only by one are the same page, for loops too).
    """
    meta = body.get("meta") if isinstance(body, dict) else None
    total = _count(meta.get("total_pages")) if isinstance(meta, dict) else None
    if total is not None:
        return Paging(total_pages=total)
    found = _body_next(body) or link_next
    return Paging(next_url=urldefrag(urljoin(url, found)).url if found else None)


def last_page(total_pages: int, stop_page: int | None) -> int:
    """Return the last page to fetch: the API's last one, or ``stop_page`` if earlier."""
    return total_pages if stop_page is None else min(total_pages, stop_page)


def advance(
    cursor: Cursor, paging: Paging, *, stop_page: int | None, url: str = "", size: int = 0
) -> Cursor:
    """Return the cursor after the page ``cursor.next_page`` (``url``, ``size`` bytes) was fetched.

    In a next-link style the digest of each fetched URL is kept, to find loops.
    """
    number = cursor.next_page
    total = paging.total_pages
    if total is None and cursor.style == "pages":
        total = cursor.total_pages
    style: Style
    if total is not None:
        style, more = "pages", number < last_page(total, stop_page)
    elif paging.next_url is not None:
        style, more = "links", stop_page is None or number < stop_page
    else:
        style, more = cursor.style or "single", False
    return replace(
        cursor,
        next_page=number + 1,
        next_url=paging.next_url if style == "links" else None,
        style=style,
        total_pages=total,
        pages_done=cursor.pages_done + 1,
        crawled=not more,
        bytes_done=cursor.bytes_done + size,
        seen=(*cursor.seen, url_digest(url))[-LOOP_MEMORY:] if style == "links" else (),
    )


def planned_pages(cursor: Cursor, *, limit: int, stop_page: int | None) -> list[int]:
    """Return the page numbers to fetch next, at most ``limit``; more than one only when known.

    Before the first page, and for next-link styles, only the next page can be known.
    """
    if cursor.style != "pages" or cursor.total_pages is None:
        return [cursor.next_page]
    last = min(last_page(cursor.total_pages, stop_page), cursor.next_page + limit - 1)
    return list(range(cursor.next_page, last + 1))


def page_url(url: str, page: int) -> str:
    """Return ``url`` with its ``page`` query parameter set to ``page``."""
    return str(httpx.URL(url).copy_set_param("page", page))


def request_url(url: str, cursor: Cursor, page: int) -> str:
    """Return the URL of ``page``: the next link in a link style, else the ``page`` parameter."""
    if cursor.style == "links" and cursor.next_url is not None and page == cursor.next_page:
        return cursor.next_url
    return page_url(url, page)


NAME_LENGTH = 100
"""Longest endpoint name; longer ones keep their start and end in a digest of the whole."""


def endpoint_name(url: str) -> str:
    """Return the snapshot's name from the URL path, as Lagotto did (``/api/works`` -> api_works).

    A URL without a path is named after its host. A name over ``NAME_LENGTH`` characters keeps
    its first ones and a digest of the whole, so that file names stay within what file systems
    take (255 bytes) and two long paths never share a name.
    """
    parts = urlsplit(url)
    raw = parts.path.strip("/") or parts.hostname or "api"
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("_") or "api"
    if len(name) <= NAME_LENGTH:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{name[: NAME_LENGTH - 13]}_{digest}"


def snapshot_name(url: str) -> str:
    """Return the name snapshots of one endpoint share (``example.org_api_works``).

    Uploads of one name are versions of one Zenodo record; the host is part of the name
    because the same path on two servers is two endpoints.
    """
    return f"{urlsplit(url).hostname or 'local'}_{endpoint_name(url)}"


def dump_name(url: str, date: str) -> str:
    """Return the dump's file name: ``<endpoint>_<date>.jsondump``."""
    return f"{endpoint_name(url)}_{date}.jsondump"


def part_name(first_page: int) -> str:
    """Return the part file of the chunk starting at ``first_page`` (a re-run overwrites it)."""
    return f"part-{first_page:08d}.jsonl"

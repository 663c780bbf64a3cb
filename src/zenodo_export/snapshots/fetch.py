"""The crawler's one HTTP boundary: GET pages and translate every failure into our tree.

* a 5xx, a time-out, a reset or a broken answer -> ``Transient`` (the runner retries the chunk);
* a 429, or a 503 with ``Retry-After`` -> ``RateLimited`` (postponed by ``Retry-After``, read
  and bounded by ``http_delays`` as Zenodo's is; no attempt used);
* any other 4xx, a body that is not JSON, a URL that cannot be fetched -> ``PageRejected``.

Every message names the page URL.
"""

from __future__ import annotations

import functools
import json
import ssl
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from zenodo_export.errors import RateLimited, Rejected, Transient
from zenodo_export.http_delays import retry_after_seconds
from zenodo_export.snapshots.pagination import Paging, paging_of

USER_AGENT = "zenodo-export api-snapshot"
"""How the crawler introduces itself to the API."""


class PageRejected(Rejected):
    """A page answered with a 4xx or a body that is not JSON: the snapshot cannot go on."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"page {url}: {reason}")


@dataclass(frozen=True)
class FetchedPage:
    """One page as the dump gets it: its JSON on one line, and what it says comes next."""

    number: int
    url: str
    line: bytes
    paging: Paging
    seconds: float


@functools.cache
def _tls() -> ssl.SSLContext:
    # Building a context loads the CA bundle (~20 ms): once per process, not once per chunk.
    return httpx.create_ssl_context()


def open_client(*, timeout: float, concurrency: int) -> httpx.Client:
    """Return a client for one chunk, with a connection per concurrent fetch."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.Client(
        timeout=timeout,
        limits=limits,
        follow_redirects=True,
        verify=_tls(),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
    )


def _get(client: httpx.Client, url: str) -> httpx.Response:
    try:
        return client.get(url)
    except (httpx.UnsupportedProtocol, httpx.TooManyRedirects) as exc:
        raise PageRejected(url, str(exc) or type(exc).__name__) from exc
    except httpx.TimeoutException as exc:
        raise Transient(f"page {url}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise Transient(f"page {url}: {exc or type(exc).__name__}") from exc
    except httpx.InvalidURL as exc:
        raise PageRejected(url, f"invalid URL ({exc})") from exc


def _check_status(response: httpx.Response, url: str) -> None:
    status, wait = response.status_code, retry_after_seconds(response.headers)
    if status == 429 or (status == 503 and "Retry-After" in response.headers):
        raise RateLimited(f"page {url}: rate limited ({status})", retry_after=wait)
    if status >= 500:
        message = f"page {url}: server error {status} {response.reason_phrase}"
        raise Transient(message, retry_after=wait)
    if status >= 400:
        raise PageRejected(url, f"answered {status} {response.reason_phrase}")


def _line_of(response: httpx.Response, url: str) -> tuple[bytes, Paging]:
    try:
        body = json.loads(response.content)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        kind = response.headers.get("Content-Type", "no content type")
        raise PageRejected(url, f"the body is not JSON ({kind})") from exc
    link_next = response.links.get("next", {}).get("url")
    paging = paging_of(body, link_next=link_next, url=str(response.url))
    line = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    return line, paging


def fetch_page(client: httpx.Client, url: str, number: int) -> FetchedPage:
    """GET one page and return it as one line of JSON; our errors on any failure."""
    started = time.perf_counter()
    response = _get(client, url)
    seconds = time.perf_counter() - started
    _check_status(response, url)
    line, paging = _line_of(response, url)
    return FetchedPage(number=number, url=url, line=line, paging=paging, seconds=seconds)


def fetch_pages(
    client: httpx.Client, wanted: Sequence[tuple[int, str]], *, concurrency: int
) -> list[FetchedPage]:
    """Fetch ``(number, url)`` pages, ``concurrency`` at a time; return them in the given order."""
    if len(wanted) <= 1 or concurrency <= 1:
        return [fetch_page(client, url, number) for number, url in wanted]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(wanted))) as pool:
        return list(pool.map(lambda item: fetch_page(client, item[1], item[0]), wanted))

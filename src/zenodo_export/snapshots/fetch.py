"""The crawler's one HTTP boundary: GET pages and translate every failure into our tree.

* a 5xx, a time-out, a reset or a broken answer -> ``Transient`` (the runner retries the chunk);
* a 429, or a 503 with ``Retry-After`` -> ``RateLimited`` (postponed by ``Retry-After``, read
  and bounded by ``http_delays`` as Zenodo's is; no attempt used);
* any other 4xx, a body that is not JSON, a URL that cannot be fetched -> ``PageRejected``;
* a URL or redirect the crawl's ``CrawlPolicy`` refuses -> ``PageRefused``; a page over its
  byte cap or its deadline -> ``PageTooLarge`` / ``PageTooSlow`` (all ``PageRejected``: the
  snapshot fails for good, nothing is retried).

Redirects are followed here, one by one, each checked by the policy before it is requested.
A snapshot's credential headers (``SnapshotRequest.header_values``) go only to the start
URL's origin: never to another host the crawl is allowed to follow, nor along a redirect.
A page streams to its own file as it arrives (``pagebody``): no page is ever whole in memory.
A page's deadline is checked as each piece arrives, and no single read waits longer than the
deadline either, so a page is given up at most one read time-out after its deadline.
Every message names the page URL, without its credentials (``policy.shown``).
"""

from __future__ import annotations

import functools
import os
import ssl
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any
from urllib.parse import urljoin

import httpcore
import httpx

from zenodo_export.errors import RateLimited, Rejected, Transient
from zenodo_export.http_delays import retry_after_seconds
from zenodo_export.localfiles import PRIVATE_FILE_MODE
from zenodo_export.snapshots.pagebody import LINE, Decoder, JsonScanner, paging_members
from zenodo_export.snapshots.pagination import Paging, paging_of
from zenodo_export.snapshots.policy import CrawlPolicy, Resolver, resolve, shown

USER_AGENT = "zenodo-export api-snapshot"
"""How the crawler introduces itself to the API."""

ACCEPT_ENCODING = "gzip, deflate"
"""The encodings the crawler inflates itself, in bounded steps."""

EMPTY: Mapping[str, str] = MappingProxyType({})


class PageRejected(Rejected):
    """A page answered with a 4xx or a body that is not JSON: the snapshot cannot go on."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = shown(url)
        super().__init__(f"page {self.url}: {reason}")


class PageRefused(PageRejected):
    """The crawl's policy refuses a URL (another host, a private address, too many redirects)."""


class PageTooLarge(PageRejected):
    """A page is larger than the page cap once decompressed."""


class PageTooSlow(PageRejected):
    """A page took longer than its deadline, counted from the request to its last byte."""


class CrawlBoundReached(PageRejected):
    """A snapshot reached a bound of its own: pages, bytes, its deadline, or a next-link loop."""


@dataclass(frozen=True)
class PageLimits:
    """The bounds of one page: bytes after decompression, seconds in all, redirects."""

    max_bytes: int
    seconds: float
    max_redirects: int


@dataclass(frozen=True)
class FetchedPage:
    """One page as the dump gets it: its one-line file, its size, and what comes next."""

    number: int
    url: str
    path: Path
    size: int
    paging: Paging
    seconds: float


@functools.cache
def _tls() -> ssl.SSLContext:
    # Building a context loads the CA bundle (~20 ms): once per process, not once per chunk.
    return httpx.create_ssl_context()


class PinnedBackend(httpcore.SyncBackend):
    """Connect only to the addresses the crawl's policy allows, from one resolution."""

    def __init__(self, policy: CrawlPolicy, *, resolver: Resolver = resolve) -> None:
        self.policy = policy
        self.resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect to the first allowed address of ``host`` that answers."""
        failure: Exception = httpcore.ConnectError(f"{host} has no address this crawl may reach")
        for address in self.policy.allowed_addresses(host, port, resolver=self.resolver):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure


def _transport(policy: CrawlPolicy, concurrency: int) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(verify=_tls())
    # httpx takes no network backend; its pool is replaced by one with the pinned backend
    # (no proxy: a proxy would resolve names itself, past the policy).
    transport._pool = httpcore.ConnectionPool(
        ssl_context=_tls(),
        max_connections=concurrency,
        max_keepalive_connections=concurrency,
        keepalive_expiry=5.0,
        network_backend=PinnedBackend(policy),
    )
    return transport


def open_client(*, timeout: float, concurrency: int, policy: CrawlPolicy) -> httpx.Client:
    """Return a client for one chunk, with a connection per concurrent fetch.

    It connects only to addresses ``policy`` allows, resolved once per connection.
    """
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    return httpx.Client(
        timeout=timeout,
        limits=limits,
        follow_redirects=False,
        headers=headers,
        transport=_transport(policy, concurrency),
    )


def _send(
    client: httpx.Client, url: str, timeout: float, headers: Mapping[str, str]
) -> httpx.Response:
    try:
        wait = min(timeout, client.timeout.read or timeout)
        request = client.build_request("GET", url, timeout=wait, headers=dict(headers))
        return client.send(request, stream=True)
    except httpx.UnsupportedProtocol as exc:
        raise PageRejected(url, str(exc) or type(exc).__name__) from exc
    except httpx.TimeoutException as exc:
        raise Transient(f"page {shown(url)}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise Transient(f"page {shown(url)}: {exc or type(exc).__name__}") from exc
    except httpx.InvalidURL as exc:
        raise PageRejected(url, f"invalid URL ({exc})") from exc


@contextmanager
def opened(
    client: httpx.Client,
    url: str,
    *,
    policy: CrawlPolicy,
    limits: PageLimits,
    secrets: Mapping[str, str] = EMPTY,
) -> Iterator[httpx.Response]:
    """Yield the streamed answer to ``url``, following redirects the policy allows.

    ``secrets`` (credential headers) are sent only to the start URL's origin.
    """
    current = url
    for _ in range(limits.max_redirects + 1):
        reason = policy.refusal(current)
        if reason is not None:
            what = "not requested" if current == url else f"redirect to {shown(current)} refused"
            raise PageRefused(url, f"{what}: {reason}")
        headers = secrets if policy.is_start_origin(current) else EMPTY
        response = _send(client, current, limits.seconds, headers)
        location = response.headers.get("Location")
        if not (response.is_redirect and location):
            try:
                yield response
            finally:
                response.close()
            return
        response.close()
        current = urljoin(current, location)
    raise PageRefused(url, f"more than {limits.max_redirects} redirect(s)")


def _check_status(response: httpx.Response, url: str) -> None:
    status, wait = response.status_code, retry_after_seconds(response.headers)
    if status == 429 or (status == 503 and "Retry-After" in response.headers):
        raise RateLimited(f"page {shown(url)}: rate limited ({status})", retry_after=wait)
    if status >= 500:
        message = f"page {shown(url)}: server error {status} {response.reason_phrase}"
        raise Transient(message, retry_after=wait)
    if status >= 400:
        raise PageRejected(url, f"answered {status} {response.reason_phrase}")


def _chunks(response: httpx.Response, url: str) -> Iterator[bytes]:
    try:
        yield from response.iter_raw()
    except httpx.TimeoutException as exc:
        raise Transient(f"page {shown(url)}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise Transient(f"page {shown(url)}: {exc or type(exc).__name__}") from exc


def _private(path: Path) -> IO[bytes]:
    # 0600 from the start, like every file of ours (localfiles.PRIVATE_FILE_MODE).
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    return os.fdopen(descriptor, "w+b")


def _stream_body(
    response: httpx.Response, url: str, path: Path, *, limits: PageLimits, deadline: float
) -> tuple[int, Paging]:
    """Write the body to ``path`` as one line; return its size and what it says comes next."""
    try:
        decoder = Decoder(response.headers.get("Content-Encoding", ""))
    except ValueError as exc:
        raise PageRejected(url, str(exc)) from None
    scanner, size = JsonScanner(), 0
    with _private(path) as out:  # an OSError goes up: the crawl names the part it was for
        try:
            for raw in _chunks(response, url):
                for piece in decoder.decode(raw):
                    if time.monotonic() > deadline:
                        raise PageTooSlow(url, f"took longer than {limits.seconds:g} s in all")
                    size += len(piece)
                    if size > limits.max_bytes:
                        raise PageTooLarge(url, f"larger than {limits.max_bytes} bytes")
                    scanner.feed(piece)
                    out.write(piece.translate(LINE))
            tail = decoder.flush()
            size += len(tail)
            if size > limits.max_bytes:
                raise PageTooLarge(url, f"larger than {limits.max_bytes} bytes")
            scanner.feed(tail)
            out.write(tail.translate(LINE))
            scanner.finish()
            body = paging_members(scanner, out)
        except ValueError as exc:
            kind = response.headers.get("Content-Type", "no content type")
            raise PageRejected(url, f"{exc} ({kind})") from None
        out.seek(0, 2)
        out.write(b"\n")
    link_next = response.links.get("next", {}).get("url")
    return size, paging_of(body, link_next=link_next, url=str(response.url))


def fetch_page(
    client: httpx.Client,
    url: str,
    number: int,
    *,
    into: Path,
    policy: CrawlPolicy,
    limits: PageLimits,
    secrets: Mapping[str, str] = EMPTY,
) -> FetchedPage:
    """GET one page into ``into``/page-N.jsonl, one line of JSON; our errors on any failure."""
    started = time.perf_counter()
    deadline = time.monotonic() + limits.seconds
    path = into / f"page-{number:08d}.jsonl"
    try:
        with opened(client, url, policy=policy, limits=limits, secrets=secrets) as response:
            _check_status(response, url)
            size, paging = _stream_body(response, url, path, limits=limits, deadline=deadline)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - started
    return FetchedPage(number=number, url=url, path=path, size=size, paging=paging, seconds=seconds)


def fetch_pages(
    client: httpx.Client,
    wanted: Sequence[tuple[int, str]],
    *,
    concurrency: int,
    into: Path,
    policy: CrawlPolicy,
    limits: PageLimits,
    secrets: Mapping[str, str] = EMPTY,
) -> list[FetchedPage]:
    """Fetch ``(number, url)`` pages, ``concurrency`` at a time; return them in the given order."""

    def one(item: tuple[int, str]) -> FetchedPage:
        return fetch_page(
            client, item[1], item[0], into=into, policy=policy, limits=limits, secrets=secrets
        )

    if len(wanted) <= 1 or concurrency <= 1:
        return [one(item) for item in wanted]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(wanted))) as pool:
        return list(pool.map(one, wanted))

"""Where a crawl may go: next links and redirects stay on the start URL's origin unless allowed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.snapshots.conftest import crawl, dump_pages, failure
from tests.snapshots.hostile_server import HostileServer, json_page, redirect
from zenodo_export.config_file import parse_config_file
from zenodo_export.errors import InvalidExport
from zenodo_export.settings import Settings
from zenodo_export.snapshots import parse_request
from zenodo_export.snapshots.policy import CrawlPolicy, shown
from zenodo_export.store import Store

pytestmark = pytest.mark.hostile


def test_a_next_link_to_another_host_is_not_followed(
    home: HostileServer, other: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """``links.next`` to 127.0.0.2 fails the snapshot naming the link; 127.0.0.2 sees nothing."""
    away = other.route("/steal", json_page({"data": []}))
    start = home.route("/api", json_page({"data": [1], "links": {"next": away}}))
    message = failure(sqlite_store, crawl(sqlite_store, crawl_settings, start))
    assert f"page {away}: not requested" in message and "--allow-host" in message
    assert other.requests == []


def test_a_link_header_to_another_host_is_not_followed(
    home: HostileServer, other: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A ``Link: rel="next"`` header to another host is refused like a body link."""
    away = other.route("/steal", json_page([]))
    start = home.route("/api", json_page([1], headers={"Link": f'<{away}>; rel="next"'}))
    message = failure(sqlite_store, crawl(sqlite_store, crawl_settings, start))
    assert f"page {away}: not requested" in message
    assert other.requests == []


def test_a_redirect_to_another_host_is_refused(
    home: HostileServer, other: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A redirect to another host is refused before it is requested, naming both URLs."""
    away = other.route("/steal", json_page({"data": []}))
    start = home.route("/api", redirect(away))
    message = failure(sqlite_store, crawl(sqlite_store, crawl_settings, start))
    assert f"redirect to {away} refused" in message and start in message
    assert other.requests == []


def test_another_port_of_the_same_host_is_another_origin(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A next link to the same host on another port is refused."""
    with HostileServer("127.0.0.1") as second:
        away = second.route("/more", json_page({"data": []}))
        start = home.route("/api", json_page({"data": [1], "links": {"next": away}}))
        message = failure(sqlite_store, crawl(sqlite_store, crawl_settings, start))
        assert "is not the start URL's host" in message
        assert second.requests == []


def test_allowed_hosts_are_followed(
    home: HostileServer, other: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """With ``allow_hosts`` naming 127.0.0.2:port, its next links and redirects are followed."""
    last = other.route("/last", json_page({"data": [3]}))
    middle = other.route("/middle", json_page({"data": [2], "links": {"next": last}}))
    hop = home.route("/hop", redirect(middle))
    start = home.route("/api", json_page({"data": [1], "links": {"next": hop}}))
    snapshot = crawl(sqlite_store, crawl_settings, start, allow_hosts=(other.netloc,))
    assert snapshot.state == "done", snapshot.last_error
    assert [page["data"] for page in dump_pages(snapshot)] == [[1], [2], [3]]
    assert other.requests == ["/middle", "/last"]


@pytest.mark.parametrize(
    "link",
    ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/", "http://[::1]:1/x"],
)
def test_other_schemes_and_ipv6_loopback_are_refused(
    link: str, home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """Next links with another scheme, or to an IPv6 literal not allowed, fail the snapshot."""
    start = home.route("/api", json_page({"data": [1], "links": {"next": link}}))
    message = failure(sqlite_store, crawl(sqlite_store, crawl_settings, start))
    assert "not requested" in message
    assert home.requests == ["/api?page=1"]


def test_the_cloud_metadata_address_is_refused_even_when_allowed_as_a_host(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A link-local address is refused (the start is loopback, not link-local): no connection."""
    link = "http://169.254.169.254/latest/meta-data/"
    start = home.route("/api", json_page({"data": [1], "links": {"next": link}}))
    snapshot = crawl(sqlite_store, crawl_settings, start, allow_hosts=("169.254.169.254",))
    message = failure(sqlite_store, snapshot)
    assert "resolves to a link-local address; --allow-private allows it" in message


def test_too_many_redirects_fail_the_snapshot(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """A redirect loop stops after the redirect limit, naming the page."""
    start = home.route("/api", redirect("/round"))
    home.route("/round", redirect("/api"))
    settings = crawl_settings.model_copy(update={"crawl_max_redirects": 3})
    message = failure(sqlite_store, crawl(sqlite_store, settings, start))
    assert f"page {start}?page=1: more than 3 redirect(s)" in message
    assert len(home.requests) == 4


def test_credential_headers_go_only_to_the_start_origin(
    home: HostileServer,
    other: HostileServer,
    sqlite_store: Store,
    crawl_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A snapshot's credential header reaches its own host, not an allowed one nor a redirect."""
    monkeypatch.setenv("ZX_CRAWL_KEY", "k3y-value")
    last = other.route("/last", json_page({"data": [3]}))
    hop = home.route("/hop", redirect(other.route("/middle", json_page({"data": [2]}))))
    other.routes["/middle"] = json_page({"data": [2], "links": {"next": last}})
    start = home.route("/api", json_page({"data": [1], "links": {"next": hop}}))
    snapshot = crawl(
        sqlite_store,
        crawl_settings,
        start,
        allow_hosts=(other.netloc,),
        headers={"X-Api-Key": "env:ZX_CRAWL_KEY"},
    )
    assert snapshot.state == "done", snapshot.last_error
    assert [h.get("x-api-key") for h in home.headers] == ["k3y-value", "k3y-value"]
    assert other.requests == ["/middle", "/last"]
    assert [h.get("x-api-key") for h in other.headers] == [None, None]


def test_credentials_in_a_page_url_are_not_shown(
    home: HostileServer, sqlite_store: Store, crawl_settings: Settings
) -> None:
    """An error names the page without its userinfo or credential-like query values."""
    link = home.base_url.replace("//", "//user:hunter2@") + "/gone?api_key=s3cret&q=1"
    start = home.route("/api", json_page({"data": [1], "links": {"next": link}}))
    message = failure(sqlite_store, crawl(sqlite_store, crawl_settings, start))
    assert "hunter2" not in message and "s3cret" not in message
    assert f"page {home.base_url}/gone?api_key=***&q=1: answered 404" in message


def fake(answers: dict[str, Sequence[str]]) -> object:
    """Return a resolver answering from ``answers`` (no DNS in these tests)."""
    return lambda host, port: answers.get(host, ())


PUBLIC = {"api.example.org": ["93.184.216.34"], "cdn.example.org": ["93.184.216.35"]}


@pytest.mark.parametrize(
    "host,address,kind",
    [
        ("sneaky.example.org", "127.0.0.1", "loopback"),
        ("sneaky.example.org", "::1", "loopback"),
        ("sneaky.example.org", "::ffff:127.0.0.1", "loopback"),
        ("sneaky.example.org", "169.254.169.254", "link-local"),
        ("sneaky.example.org", "fe80::1", "link-local"),
        ("sneaky.example.org", "10.0.0.7", "private"),
        ("sneaky.example.org", "192.168.1.1", "private"),
        ("sneaky.example.org", "fd00::1", "private"),
        ("sneaky.example.org", "0.0.0.0", "private"),
        ("sneaky.example.org", "100.64.0.1", "reserved"),
    ],
)
def test_names_that_resolve_to_non_public_addresses_are_refused(
    host: str, address: str, kind: str
) -> None:
    """An allowed host resolving to a non-public address is refused unless private is allowed."""
    resolver = fake({**PUBLIC, host: [address]})
    policy = CrawlPolicy.of(
        "https://api.example.org/works",
        allow_hosts=(host,),
        resolver=resolver,  # type: ignore[arg-type]
    )
    reason = policy.refusal(f"https://{host}/x", resolver=resolver)  # type: ignore[arg-type]
    assert reason is not None and f"a {kind} address" in reason
    allowed = CrawlPolicy.of(
        "https://api.example.org/works",
        allow_hosts=(host,),
        allow_private=True,
        resolver=resolver,  # type: ignore[arg-type]
    )
    assert allowed.refusal(f"https://{host}/x", resolver=resolver) is None  # type: ignore[arg-type]


def test_the_origin_rules() -> None:
    """Same origin passes; https never goes down to http; ports in allow_hosts are exact."""
    resolver = fake(PUBLIC)
    policy = CrawlPolicy.of(
        "https://api.example.org/works",
        allow_hosts=("cdn.example.org:8443",),
        resolver=resolver,  # type: ignore[arg-type]
    )

    def refused(url: str) -> bool:
        return policy.refusal(url, resolver=resolver) is not None  # type: ignore[arg-type]

    assert not refused("https://API.example.org:443/works?page=2")
    assert refused("http://api.example.org/works")
    assert not refused("https://cdn.example.org:8443/x")
    assert refused("https://cdn.example.org/x")
    assert refused("http://cdn.example.org:8443/x")
    assert refused("https://evil.example.org/x")


def test_bad_allow_hosts_entries_are_refused() -> None:
    """An ``allow_hosts`` entry that is not host or host:port is an error naming the field."""
    with pytest.raises(InvalidExport, match="allow_hosts"):
        parse_request({"url": "https://api.example.org/", "allow_hosts": ["http://x/y"]})


def test_allow_hosts_in_the_config_file(tmp_path: Path) -> None:
    """A ``[snapshots.NAME]`` entry takes ``allow_hosts`` and ``allow_private``."""
    data = {
        "snapshots": {
            "works": {
                "url": "https://api.example.org/works",
                "allow_hosts": ["cdn.example.org", "api2.example.org:8443"],
                "allow_private": True,
            }
        }
    }
    entry = parse_config_file(data, tmp_path / "config.toml").snapshot("works")
    assert entry.allow_hosts == ("cdn.example.org", "api2.example.org:8443")
    assert entry.allow_private is True


def test_shown_hides_credentials() -> None:
    """``shown`` drops userinfo and masks credential-like query values only."""
    url = "https://me:pw@api.example.org/x?access_token=t&page=2&signature=s"
    assert shown(url) == "https://api.example.org/x?access_token=***&page=2&signature=***"


def test_connections_go_only_to_checked_addresses(home: HostileServer) -> None:
    """A name that resolves to loopback when connecting (DNS rebinding) gets no connection."""
    import httpcore

    from zenodo_export.snapshots.fetch import PinnedBackend

    port = int(home.netloc.rpartition(":")[2])
    answers = {"api.example.org": ["93.184.216.34"], "rebind.example.org": ["127.0.0.1"]}
    resolver = fake(answers)
    policy = CrawlPolicy.of(
        "http://api.example.org/",
        allow_hosts=("rebind.example.org",),
        resolver=resolver,  # type: ignore[arg-type]
    )
    backend = PinnedBackend(policy, resolver=resolver)  # type: ignore[arg-type]
    with pytest.raises(httpcore.ConnectError, match="no address this crawl may reach"):
        backend.connect_tcp("rebind.example.org", port, timeout=2)
    trusting = PinnedBackend(
        CrawlPolicy.of("http://api.example.org/", allow_private=True, resolver=resolver),  # type: ignore[arg-type]
        resolver=resolver,  # type: ignore[arg-type]
    )
    trusting.connect_tcp("rebind.example.org", port, timeout=2).close()

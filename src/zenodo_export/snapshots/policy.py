"""Where a crawl may go: pure decisions on each URL before it is requested.

A crawl follows next links and redirects only to its start URL's scheme, host and port, and to
the hosts its ``allow_hosts`` names (``host`` or ``host:port``; never from ``https`` down to
``http``). Every host is resolved before it is requested; an address that is not global
(loopback, link-local such as a cloud metadata address, private, reserved) is refused unless
the start URL is of that same kind or the crawl allows private addresses (``allow_private``).

The resolver is a parameter, so the decisions are tested without DNS. The crawler's client
connects only to addresses ``allowed_addresses`` returns, from its own resolution, so a DNS
server that changes its answer between the check and the connection gains nothing.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

Resolver = Callable[[str, int], Sequence[str]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
HOST = re.compile(r"[a-z0-9_.-]+|[0-9a-f:.]+", re.IGNORECASE)
"""A host name or an IP address (urlsplit takes the brackets off IPv6)."""

UNSAFE = re.compile(r"[\x00-\x20\x7f]")
"""Characters a URL never holds raw."""

MAX_URL_LENGTH = 2048
"""Longest URL a snapshot starts from or a crawl requests (what browsers and servers commonly
take, and what the database column holds); a longer next link is hostile."""

SHOWN_LENGTH = 300
"""Longest URL a message shows; a longer one is cut, saying how long it was."""
SECRET_PARAMETER = re.compile(r"token|key|secret|pass|auth|sig|session|credential", re.I)


def shown(url: str) -> str:
    """Return ``url`` fit for a message: no userinfo, credential-like query values as ``***``,
    cut after ``SHOWN_LENGTH`` characters."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        query = [
            (name, "***" if SECRET_PARAMETER.search(name) else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        text = urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="*/:")))
    except ValueError:
        return "(a URL that does not parse)"
    if len(text) <= SHOWN_LENGTH:
        return text
    return f"{text[: SHOWN_LENGTH - 40]}... ({len(text)} characters)"


def origin_of(url: str) -> tuple[str, str, int]:
    """Return ``(scheme, host, port)`` of ``url``; ``ValueError`` when it has none."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        raise ValueError(f"not an http(s) URL with a host ({scheme or 'no scheme'})")
    return scheme, host, parts.port or DEFAULT_PORTS[scheme]


def parse_allowed(entry: str) -> tuple[str, int | None]:
    """Return ``(host, port or None)`` of an ``allow_hosts`` entry (``host``, ``host:port``)."""
    parts = urlsplit(f"//{entry.strip()}")
    if not parts.hostname or parts.path or parts.query or "@" in parts.netloc:
        raise ValueError(f"{entry!r} is not a host or host:port")
    if not HOST.fullmatch(parts.hostname):
        raise ValueError(f"{entry!r} is not a host or host:port (a name, or an IP address)")
    return parts.hostname.lower(), parts.port


def kind_of(address: Address) -> str | None:
    """Return what is not public about ``address`` (``loopback``, ...), or None if global."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_global:
        return None
    return "private" if address.is_private else "reserved"


def resolve(host: str, port: int) -> list[str]:
    """Return the addresses ``host`` resolves to (an IP literal is its own address)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return [str(info[4][0]).partition("%")[0] for info in found]


def kinds_of(host: str, port: int, resolver: Resolver) -> set[str | None]:
    """Return the kinds of the addresses ``host`` resolves to (None for a global one)."""
    return {kind_of(ipaddress.ip_address(address)) for address in resolver(host, port)}


@dataclass(frozen=True)
class CrawlPolicy:
    """The origins a crawl may request and the kinds of non-public address it may reach."""

    scheme: str
    host: str
    port: int
    allowed: tuple[tuple[str, int | None], ...] = ()
    allow_private: bool = False
    start_kinds: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        start_url: str,
        *,
        allow_hosts: Sequence[str] = (),
        allow_private: bool = False,
        resolver: Resolver = resolve,
    ) -> CrawlPolicy:
        """Return the policy of a crawl starting at ``start_url``."""
        scheme, host, port = origin_of(start_url)
        kinds = {kind for kind in kinds_of(host, port, resolver) if kind is not None}
        return cls(
            scheme=scheme,
            host=host,
            port=port,
            allowed=tuple(parse_allowed(entry) for entry in allow_hosts),
            allow_private=allow_private,
            start_kinds=frozenset(kinds),
        )

    def refusal(self, url: str, *, resolver: Resolver = resolve) -> str | None:
        """Return why ``url`` may not be requested, or None when it may."""
        if len(url) > MAX_URL_LENGTH:
            return f"a URL longer than {MAX_URL_LENGTH} characters"
        if UNSAFE.search(url):
            return "a URL holding a space or a control character (encode it: %20, ...)"
        try:
            scheme, host, port = origin_of(url)
        except ValueError as exc:
            return str(exc)
        if not self._origin_allowed(scheme, host, port):
            return (
                f"{scheme}://{host}:{port} is not the start URL's host; "
                "name it with --allow-host (allow_hosts) to follow it"
            )
        # A host that does not resolve now is left to the client: it fails to connect, and the
        # chunk is retried (DNS outages pass).
        kinds = kinds_of(host, port, resolver)
        for kind in sorted(k for k in kinds if k is not None):
            if not self.allow_private and kind not in self.start_kinds:
                return f"{host} resolves to a {kind} address; --allow-private allows it"
        return None

    def allowed_addresses(self, host: str, port: int, *, resolver: Resolver = resolve) -> list[str]:
        """Return the addresses of ``host`` this crawl may connect to, in the resolver's order."""
        return [
            address
            for address in resolver(host, port)
            if self._kind_allowed(kind_of(ipaddress.ip_address(address)))
        ]

    def _kind_allowed(self, kind: str | None) -> bool:
        return kind is None or self.allow_private or kind in self.start_kinds

    def is_start_origin(self, url: str) -> bool:
        """Return True when ``url`` is on the start URL's scheme, host and port."""
        try:
            return origin_of(url) == (self.scheme, self.host, self.port)
        except ValueError:
            return False

    def _origin_allowed(self, scheme: str, host: str, port: int) -> bool:
        if (scheme, host, port) == (self.scheme, self.host, self.port):
            return True
        if self.scheme == "https" and scheme == "http":
            return False
        return any(host == name and number in (None, port) for name, number in self.allowed)

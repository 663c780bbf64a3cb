"""Keep web pages out: a sandbox on loopback answers only requests addressed to loopback.

A sandbox bound to a loopback address is reachable by any web page its user opens, in two
ways this middleware closes:

* **DNS rebinding**: a page on ``evil.example`` whose name then resolves to ``127.0.0.1``
  reaches the sandbox with ``Host: evil.example``; only loopback ``Host`` values
  (``localhost``, ``127.x.y.z``, ``[::1]``) are answered, others get 421;
* **cross-site forms**: a page can POST a form to ``http://127.0.0.1:port``; the browser says
  where it comes from in ``Origin``, and a request that changes anything with an ``Origin``
  of another host than its ``Host`` gets 403. HTTP clients (ours, curl, Zenodo's libraries)
  send no ``Origin`` and pass.

A sandbox bound to another address already warns that other machines can reach it; it keeps
these checks off, as its ``Host`` is whatever name those machines use.
"""

from __future__ import annotations

import ipaddress
import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from zenodo_export.sandbox import wire
from zenodo_export.sandbox.errors import error_body

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str) -> bool:
    """Say whether ``host`` is a loopback address or ``localhost``."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_of(authority: str) -> str:
    """Return the host of a ``Host`` header or an origin (no port, brackets removed)."""
    try:
        return (urlsplit(f"//{authority}").hostname or "").lower()
    except ValueError:
        return ""


def refusal(scope: Scope) -> tuple[int, str] | None:
    """Return the status and message refusing this request, or None when it may pass."""
    server = scope.get("server")
    if not server or not is_loopback(str(server[0])):
        return None
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    host = host_of(headers.get("host", ""))
    if not is_loopback(host):
        return 421, "This sandbox answers requests to loopback addresses only."
    origin = headers.get("origin")
    if origin is None or scope["method"] in SAFE_METHODS:
        return None
    if host_of(urlsplit(origin).netloc) != host:  # "null" (a sandboxed page) is refused too
        return 403, "Cross-site requests are refused by this sandbox."
    return None


class NeighboursMiddleware:
    """Refuse requests that come from web pages rather than from clients (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = refusal(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        status, message = found
        await wire.respond(scope, send, status, json.dumps(error_body(status, message)).encode())

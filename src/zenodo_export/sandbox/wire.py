"""Reach below ASGI to the TCP connection, for the two things HTTP itself cannot say.

Dropping a connection mid-upload (a fault) and noticing bytes sent beyond Content-Length
need the server's transport. uvicorn hands every request a ``receive`` bound to its
per-request cycle object, which holds ``transport`` (asyncio) and, with the h11 protocol,
``conn`` (the h11 connection with its unread bytes). The outermost sandbox middleware
stores that raw ``receive`` in the scope under ``RAW_RECEIVE`` so that inner code can reach
it through any wrappers. On another server these helpers report that they cannot help.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.types import Receive, Scope, Send

RAW_RECEIVE = "zenodo_export.sandbox.raw_receive"
"""Scope key under which the server's own ``receive`` callable is kept."""


def remember_receive(scope: Scope, receive: Receive) -> None:
    """Keep the server's ``receive`` in the scope (first caller wins)."""
    scope.setdefault(RAW_RECEIVE, receive)


def _cycle(scope: Scope) -> Any:
    return getattr(scope.get(RAW_RECEIVE), "__self__", None)


def abort_connection(scope: Scope) -> bool:
    """Reset the request's TCP connection without an HTTP answer; False if not possible."""
    transport = getattr(_cycle(scope), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        return False
    transport.abort()
    return True


def bytes_beyond_body(scope: Scope) -> int:
    """Return how many bytes arrived after the request body ended (0 if unknown).

    A client that sends more than its Content-Length leaves the surplus in the HTTP
    parser's buffer, where it would be read as the start of the next request.
    """
    conn = getattr(_cycle(scope), "conn", None)
    trailing = getattr(conn, "trailing_data", None)
    if not trailing:
        return 0
    return len(trailing[0])


def has_body(scope: Scope) -> bool:
    """Say whether a request announces a body (Content-Length above 0, or chunked)."""
    headers = dict(scope["headers"])
    length = headers.get(b"content-length", b"0")
    return b"transfer-encoding" in headers or (length.isdigit() and int(length) > 0)


async def respond(
    scope: Scope,
    send: Send,
    status: int,
    body: bytes,
    *,
    content_type: bytes = b"application/json",
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Send a whole answer from a middleware, closing the connection if a body is left unread."""
    start = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if has_body(scope):
        start.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": [*start, *headers]})
    await send({"type": "http.response.body", "body": body})

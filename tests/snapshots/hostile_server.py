"""A hostile HTTP server in a thread: every answer written by hand, every request recorded.

``HostileServer(host)`` binds a free port on ``host`` (``127.0.0.2`` stands in for "another
host"); ``route(path, answer)`` sets what a path answers, ``answer(handler)`` writing the
status, headers and body itself, so it can lie, drip or bomb. ``requests`` lists the paths
(with queries) asked, ``headers`` their headers (lower-case names), ``most_at_once`` the most
requests in flight together. The helpers return answers: ``json_page``, ``redirect``, ``raw``,
``drip``, ``gzip_bomb``.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[BaseHTTPRequestHandler], None]


def raw(body: bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    """Answer ``body`` as is, with ``headers`` (``Content-Length`` unless given)."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        sent = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        for name, value in {**sent, **(headers or {})}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def json_page(body: Any, *, headers: dict[str, str] | None = None) -> Answer:
    """Answer ``body`` as JSON."""
    return raw(json.dumps(body).encode(), headers=headers)


def redirect(location: str, *, status: int = 302) -> Answer:
    """Answer a redirect to ``location``."""
    return raw(b"", status=status, headers={"Location": location})


def drip(body: bytes, *, every: float) -> Answer:
    """Answer ``body`` one byte every ``every`` seconds (each read is quick; the page is not)."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for byte in body:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(every)

    return answer


def bomb_bytes(inflated: int) -> bytes:
    """Return a gzip body that inflates to a JSON array of ``inflated`` bytes (mostly blanks)."""
    stream = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [stream.compress(b"[")]
    block = b" " * (1024 * 1024)
    for _ in range(inflated // len(block)):
        parts.append(stream.compress(block))
    parts.append(stream.compress(b"]"))
    parts.append(stream.flush())
    return b"".join(parts)


def gzip_bomb(inflated: int) -> Answer:
    """Answer a small gzip body that inflates to ``inflated`` bytes."""
    return raw(bomb_bytes(inflated), headers={"Content-Encoding": "gzip"})


def gzipped(body: Any) -> Answer:
    """Answer ``body`` as gzipped JSON."""
    return raw(gzip.compress(json.dumps(body).encode()), headers={"Content-Encoding": "gzip"})


class HostileServer:
    """The server, serving in a background thread on a free port of ``host``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Answer] = {}
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.most_at_once = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner._enter(self.path, {k.lower(): v for k, v in self.headers.items()})
                try:
                    route = owner.routes.get(self.path.partition("?")[0])
                    if route is None:
                        raw(b'{"error": "not found"}', status=404)(self)
                    else:
                        route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the crawler gave up on this answer, as it should
                finally:
                    owner._leave()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        self.netloc = f"{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _enter(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(path)
            self.headers.append(headers)
            self._in_flight += 1
            self.most_at_once = max(self.most_at_once, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def route(self, path: str, answer: Answer) -> str:
        """Make ``path`` answer ``answer``; return its URL."""
        self.routes[path] = answer
        return self.base_url + path

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

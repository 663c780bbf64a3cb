"""A real paginated JSON API, served by uvicorn in a thread, for snapshot tests and benchmarks.

Four endpoints, one per pagination style:

* ``/api/works?page=N``: Lagotto's ``meta.page`` / ``meta.total_pages``;
* ``/api/cursor/works?after=ID``: a relative ``links.next`` in the body (JSON:API-like);
* ``/api/linked/works?page=N``: an RFC 8288 ``Link: <...>; rel="next"`` header and a bare
  JSON array as the body (GitHub-like);
* ``/api/single``: one page without any paging information.

``pages``, ``per_page``, ``latency`` (seconds per answer) and ``faults`` (``(style, page)`` ->
``"500-once"``, ``"not-json"``, ``"404"``, or ``"429:<Retry-After>"`` / ``"503:<Retry-After>"``,
which answer that status with that header, ``-once`` after the status for one answer only,
e.g. ``"429-once:1e12"``) can be changed while it runs; ``hits`` counts the answers per
``(style, page)``; ``expected(style)`` is every page's body, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from zenodo_export.sandbox.server import base_url_of, bind

STYLES = ("meta", "cursor", "linked", "single")
PATHS = {
    "meta": "/api/works",
    "cursor": "/api/cursor/works",
    "linked": "/api/linked/works",
    "single": "/api/single",
}


@dataclass
class ApiState:
    """What the API serves, changeable at run time, and what it has answered."""

    pages: int = 5
    per_page: int = 3
    latency: float = 0.0
    faults: dict[tuple[str, int], str] = field(default_factory=dict)
    hits: Counter[tuple[str, int]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def work(style: str, number: int) -> dict[str, Any]:
    """Return one item: varied, with unicode and a line break that must not split the line."""
    return {
        "id": f"{style}-{number}",
        "title": f"Work n°{number}\nof the {style} API",
        "doi": f"10.5555/{style}.{number:06d}",
        "events": {"views": number * 7 % 101, "citations": number % 13},
    }


def items(state: ApiState, style: str, page: int) -> list[dict[str, Any]]:
    """Return the items of ``page`` (1-based) of ``style``."""
    first = (page - 1) * state.per_page + 1
    return [work(style, number) for number in range(first, first + state.per_page)]


def body_of(state: ApiState, style: str, page: int, base: str = "") -> Any:
    """Return the JSON body of ``page`` of ``style`` (``base``: this server's URL)."""
    found = items(state, style, page) if 1 <= page <= state.pages else []
    if style == "meta":
        meta = {"status": "ok", "page": page, "total_pages": state.pages}
        return {"meta": {**meta, "total": state.pages * state.per_page}, "works": found}
    if style == "cursor":
        after = page * state.per_page
        next_link = f"/api/cursor/works?after={after}" if page < state.pages else None
        return {"data": found, "links": {"self": f"{base}/api/cursor/works", "next": next_link}}
    if style == "linked":
        return found
    return {"data": items(state, "single", 1)}


@functools.lru_cache(maxsize=4096)
def encoded(style: str, page: int, pages: int, per_page: int, base: str) -> bytes:
    """Return a page's body as bytes, built once (the server's CPU stays out of benchmarks)."""
    body = body_of(ApiState(pages=pages, per_page=per_page), style, page, base)
    return json.dumps(body, ensure_ascii=False).encode()


def _page_of(request: Request, style: str, per_page: int) -> int:
    if style == "cursor" and "after" in request.query_params:
        return int(request.query_params["after"]) // per_page + 1
    if style == "single":
        return 1
    return int(request.query_params.get("page", "1"))


def _link_header(request: Request, state: ApiState, page: int) -> dict[str, str]:
    url = request.url.remove_query_params("page")
    links = [f'<{url.include_query_params(page=state.pages)}>; rel="last"']
    if page < state.pages:
        links.insert(0, f'<{url.include_query_params(page=page + 1)}>; rel="next"')
    return {"Link": ", ".join(links)}


def _busy(fault: str) -> Response:
    """Answer ``429:<value>`` or ``503:<value>`` (``-once`` or not) with that Retry-After."""
    status, _, value = fault.partition(":")
    return JSONResponse(
        {"error": "slow down"},
        status_code=int(status.removesuffix("-once")),
        headers={"Retry-After": value},
    )


def _fault(state: ApiState, style: str, page: int) -> Response | None:
    with state.lock:
        fault = state.faults.get((style, page))
        if fault is not None and fault.partition(":")[0].endswith("-once"):
            del state.faults[(style, page)]
    if fault is not None and fault[:3] in ("429", "503") and ":" in fault:
        return _busy(fault)
    if fault in ("500-once", "500"):
        return PlainTextResponse("Internal Server Error", status_code=500)
    if fault == "not-json":
        return Response("<html><body>Maintenance</body></html>", media_type="text/html")
    if fault == "404":
        return JSONResponse({"error": "not found"}, status_code=404)
    return None


def create_app(state: ApiState) -> Starlette:
    """Return the Starlette app serving ``state``."""

    def endpoint(style: str) -> Any:
        async def answer(request: Request) -> Response:
            page = _page_of(request, style, state.per_page)
            with state.lock:
                state.hits[(style, page)] += 1
            if state.latency:
                await asyncio.sleep(state.latency)
            fault = _fault(state, style, page)
            if fault is not None:
                return fault
            base = str(request.base_url).rstrip("/")
            headers = _link_header(request, state, page) if style == "linked" else {}
            content = encoded(style, page, state.pages, state.per_page, base)
            return Response(content, media_type="application/json", headers=headers)

        return answer

    return Starlette(routes=[Route(PATHS[style], endpoint(style)) for style in STYLES])


class ApiServer:
    """The API serving in a background thread on a free port."""

    def __init__(self, state: ApiState | None = None) -> None:
        self.state = state or ApiState()
        self._socket = bind("127.0.0.1", 0)
        self.base_url = base_url_of(self._socket)
        config = uvicorn.Config(
            create_app(self.state), lifespan="off", access_log=False, log_config=None
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def url(self, style: str) -> str:
        """Return the endpoint URL of ``style``."""
        return self.base_url + PATHS[style]

    def expected(self, style: str, first: int = 1, last: int | None = None) -> list[Any]:
        """Return the bodies of pages ``first``..``last`` (default: all), as the dump holds them."""
        if style == "single":
            return [body_of(self.state, style, 1, self.base_url)]
        last = self.state.pages if last is None else last
        return [body_of(self.state, style, n, self.base_url) for n in range(first, last + 1)]

    def start(self) -> ApiServer:
        """Start serving; return when connections are accepted."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and release the socket."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """Serve the API in the foreground (benchmarks run it in its own process)."""
    import argparse

    parser = argparse.ArgumentParser(description="A paginated JSON API for snapshot tests.")
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--per-page", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    args = parser.parse_args()
    state = ApiState(pages=args.pages, per_page=args.per_page, latency=args.latency)
    with ApiServer(state) as server:
        print(server.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()

"""``create_app``: the sandbox as a Starlette ASGI app, with its one error handler.

Requests pass, outermost first: stats (counts every answer) -> neighbours (no requests from
web pages to a loopback sandbox) -> faults (may fail, stall, drop or swallow the answer) ->
rate limits (``/api/`` only) -> routes. Every error, ours or
Starlette's, goes through ``handle_error``: Zenodo's JSON body for the API and the admin
endpoints, a small HTML page for the public pages.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from zenodo_export.sandbox import admin, buckets, deposits, records, wire
from zenodo_export.sandbox.admin import Stats, StatsMiddleware
from zenodo_export.sandbox.config import SandboxConfig
from zenodo_export.sandbox.errors import URL_NOT_FOUND, ApiError, error_body
from zenodo_export.sandbox.faults import FaultMiddleware
from zenodo_export.sandbox.neighbours import NeighboursMiddleware
from zenodo_export.sandbox.ratelimit import RateLimitMiddleware
from zenodo_export.sandbox.service import Sandbox

logger = logging.getLogger(__name__)

HTTP_MESSAGES = {
    404: URL_NOT_FOUND,
    405: "The method is not allowed for the requested URL.",
}
"""Flask's words for Starlette's own 404 and 405."""


def create_app(config: SandboxConfig) -> Starlette:
    """Build the sandbox app; its state opens now under ``config.data_dir``."""
    sandbox = Sandbox(config)
    stats = Stats()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        sandbox.close()

    app = Starlette(
        routes=[*deposits.routes(), *buckets.routes(), *records.routes(), *admin.routes()],
        middleware=[
            Middleware(StatsMiddleware, stats=stats),
            Middleware(NeighboursMiddleware),
            Middleware(FaultMiddleware, book=sandbox.faults),
            Middleware(RateLimitMiddleware, limiter=sandbox.limiter),
        ],
        exception_handlers={
            ApiError: handle_error,
            HTTPException: handle_error,
            ClientDisconnect: handle_error,
            Exception: handle_error,
        },
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    app.state.stats = stats
    return app


async def handle_error(request: Request, exc: Exception) -> Response:
    """Turn any error into Zenodo's answer: JSON for the API, HTML for the public pages."""
    if isinstance(exc, ClientDisconnect):
        return Response(status_code=400)  # nobody is listening any more
    headers: dict[str, str] = {}
    if isinstance(exc, ApiError):
        status, body, headers = exc.status, exc.body(), exc.headers
    elif isinstance(exc, HTTPException):
        status, headers = exc.status_code, dict(exc.headers or {})
        body = error_body(status, HTTP_MESSAGES.get(status, exc.detail))
    else:
        error_id = uuid.uuid4().hex
        logger.error(
            "sandbox error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc
        )
        status, body = 500, error_body(500, "Internal server error.") | {"error_id": error_id}
    if wire.has_body(request.scope):
        headers["connection"] = "close"  # the rest of the body may still be on its way
    if request.url.path.startswith(("/api/", "/_sandbox/")):
        return JSONResponse(body, status_code=status, headers=headers)
    message = escape(str(body["message"]))
    html = f"<!doctype html><html><body><h1>{status}</h1><p>{message}</p></body></html>"
    return HTMLResponse(html, status_code=status, headers=headers)

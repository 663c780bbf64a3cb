"""Errors as answers: one JSON shape for the API, a page for the dashboard, never a traceback.

Every API error is ``{"error": {"status": 404, "message": "...", "field": null}}``; ``field``
names the query parameter or body field at fault when there is one, and the message names it
too. Our exception tree maps onto statuses in one table (``STATUSES``).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from zenodo_export.errors import (
    ConfigError,
    Conflict,
    InvalidExport,
    NotAllowed,
    NotFound,
    Rejected,
    TooLarge,
    Transient,
    ZenodoExportError,
)
from zenodo_export.validation import PLAIN

log = logging.getLogger("zenodo_export.web")

STATUSES: tuple[tuple[type[ZenodoExportError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (TooLarge, 413),
    (Rejected, 400),
    (Transient, 503),
    (ConfigError, 500),
    (ZenodoExportError, 500),
)
"""HTTP status per branch of the exception tree (``NotAllowed``: 401 or 403)."""


def status_of(exc: ZenodoExportError) -> int:
    """Return the HTTP status that answers ``exc``."""
    if isinstance(exc, NotAllowed):
        return 403 if exc.signed_in else 401
    return next(status for kind, status in STATUSES if isinstance(exc, kind))


def problem(status: int, message: str, field: str | None = None, **headers: str) -> JSONResponse:
    """Return the one JSON error shape."""
    body = {"error": {"status": status, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers or None)


def field_problem(exc: RequestValidationError) -> tuple[str | None, str]:
    """Return the field at fault in a request validation error and a one-line message."""
    first: dict[str, Any] = exc.errors()[0]
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(loc) or None
    message = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
    plain = PLAIN.get(str(first.get("type")))
    if plain is not None:
        with contextlib.suppress(KeyError, IndexError):  # unknown context: pydantic's words
            message = plain.format(**(first.get("ctx") or {}))
    return field, f"{field}: {message}" if field else message


def wants_page(request: Request) -> bool:
    """Say whether the request came from the dashboard (answer a page, not JSON)."""
    path = request.url.path
    return not (path.startswith(("/api/", "/metrics", "/healthz", "/readyz", "/openapi")))


async def _ours(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ZenodoExportError)
    status = status_of(exc)
    if status >= 500 and not isinstance(exc, Transient):
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
    field = exc.field if isinstance(exc, InvalidExport) else None
    headers = {"Retry-After": "5"} if isinstance(exc, Transient) else {}
    if wants_page(request):
        from zenodo_export.web.pages.render import error_page

        return error_page(request, status, str(exc))
    return problem(status, str(exc), field, **headers)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    field, message = field_problem(exc)
    if wants_page(request):
        from zenodo_export.web.pages.render import error_page

        return error_page(request, 400, message)
    return problem(422, message, field)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    location = (exc.headers or {}).get("Location")
    if 300 <= exc.status_code < 400 and location is not None:
        return RedirectResponse(location, status_code=exc.status_code)
    message = str(exc.detail) if exc.detail else "error"
    if exc.status_code == 404 and message == "Not Found":
        message = f"nothing is at {request.url.path[:200]}"
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path[:200]}"
    if wants_page(request):
        from zenodo_export.web.pages.render import error_page

        return error_page(request, exc.status_code, message)
    return problem(exc.status_code, message, None, **(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("%s %s crashed", request.method, request.url.path)
    message = "internal error: the server's log has the details"
    if wants_page(request):
        from zenodo_export.web.pages.render import error_page

        return error_page(request, 500, message)
    return problem(500, message)


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` in the shapes above."""
    app.add_exception_handler(ZenodoExportError, _ours)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)

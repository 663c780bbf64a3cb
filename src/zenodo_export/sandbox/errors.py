"""Errors the sandbox answers with, and the bodies Zenodo gives them.

Handlers raise ``ApiError`` (or a helper below); the app's one error handler turns it into
Zenodo's JSON body ``{"status", "message", "errors": [{"field", "messages": [...]}]}``.
Gateway errors (502/503/504) come from nginx in front of Zenodo and are HTML, not JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from zenodo_export.errors import ZenodoExportError

FORBIDDEN = (
    "You don't have the permission to access the requested resource. "
    "It is either read-protected or not readable by the server."
)
"""Flask's 403 text, which Zenodo answers for a missing, unknown or under-scoped token."""

PID_NOT_FOUND = "The persistent identifier does not exist."
"""What Zenodo answers for an unknown deposition or record id."""

URL_NOT_FOUND = (
    "The requested URL was not found on the server. "
    "If you entered the URL manually please check your spelling and try again."
)
"""Flask's 404 text for a route that does not exist."""

TOO_LARGE = "The data value transmitted exceeds the capacity limit."
"""Zenodo's 413 text for a request body over a size cap."""

VALIDATION = "A validation error occurred."
"""Message of every 400 that carries field errors."""

GATEWAY_TITLES = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}
"""Statuses nginx answers itself, with the titles of its HTML error pages."""


class ApiError(ZenodoExportError):
    """An HTTP error answer of the sandbox, in Zenodo's words."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.errors = list(errors)
        self.headers = dict(headers or {})
        super().__init__(f"{status} {message}")

    def body(self) -> dict[str, Any]:
        """Return the JSON body Zenodo sends for this error."""
        return error_body(self.status, self.message, self.errors)


def error_body(
    status: int, message: str | None = None, errors: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """Return Zenodo's JSON error body; ``errors`` only when there are field errors."""
    body: dict[str, Any] = {"status": status, "message": message or HTTPStatus(status).phrase}
    if errors:
        body["errors"] = list(errors)
    return body


def field_error(field: str, *messages: str) -> dict[str, Any]:
    """Return one item of an error body's ``errors`` list."""
    return {"field": field, "messages": list(messages)}


def validation_error(errors: Iterable[Mapping[str, Any]]) -> ApiError:
    """Return the 400 Zenodo answers when fields are invalid or missing."""
    return ApiError(400, VALIDATION, errors=list(errors))


def forbidden() -> ApiError:
    """Return the 403 for a missing or unknown token, a lacking scope or someone else's item."""
    return ApiError(403, FORBIDDEN)


def not_found(message: str = PID_NOT_FOUND) -> ApiError:
    """Return a 404 in Zenodo's words."""
    return ApiError(404, message)


def gateway_html(status: int) -> str:
    """Return nginx's HTML error page for a gateway status (502, 503 or 504)."""
    title = GATEWAY_TITLES.get(status) or f"{status} {HTTPStatus(status).phrase}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )

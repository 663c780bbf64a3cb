"""Small helpers every request handler uses: the state, the caller, URLs, JSON in and out."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse

from zenodo_export.sandbox.auth import WRITE, Caller, authenticate
from zenodo_export.sandbox.errors import TOO_LARGE, ApiError, field_error, validation_error
from zenodo_export.sandbox.serializers import Urls
from zenodo_export.sandbox.service import Sandbox
from zenodo_export.sandbox.storage import StoredFile

UNSUPPORTED_MEDIA = "Invalid 'Content-Type' header. Expected one of: application/json."
"""Zenodo's 415 text for a body that is not declared as JSON."""


def sandbox_of(request: Request) -> Sandbox:
    """Return the sandbox state the app was built with."""
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def caller_of(request: Request, *, needs: str = WRITE) -> Caller:
    """Return the authenticated caller (403 otherwise)."""
    sandbox = sandbox_of(request)
    return authenticate(request.scope, sandbox.config, sandbox.storage, needs=needs)


def urls_of(request: Request) -> Urls:
    """Return absolute URLs built from the base URL the client used."""
    return Urls(str(request.base_url).rstrip("/"))


def path_int(request: Request, name: str = "id") -> int:
    """Return an integer path parameter."""
    return int(request.path_params[name])


def require_json(request: Request) -> None:
    """Answer 415 unless the body is declared as ``application/json``."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, UNSUPPORTED_MEDIA)


async def capped_body(request: Request) -> bytes:
    """Return the body, or 413 once it is over ``max_json_bytes`` (before reading the rest).

    A ``Content-Length`` over the cap is refused unread; a chunked body is read only up to
    the cap, so memory stays bounded whatever the client sends.
    """
    cap = sandbox_of(request).config.max_json_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap:
        raise ApiError(413, TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise ApiError(413, TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request) -> Any:
    """Return the JSON body: 415 unless declared as JSON, 413 over the cap, 400 if not JSON."""
    require_json(request)
    raw = await capped_body(request)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(
            400, "The browser (or proxy) sent a request that this server could not understand."
        ) from None


def only_keys(body: Any, allowed: set[str]) -> dict[str, Any]:
    """Return a JSON object body, with 400 for any top-level key outside ``allowed``."""
    if not isinstance(body, dict):
        raise validation_error([field_error("_schema", "Invalid input type.")])
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise validation_error([field_error(key, "Unknown field.") for key in unknown])
    return body


def file_response(request: Request, stored: StoredFile) -> FileResponse:
    """Stream a stored file's content, its md5 in ``Content-MD5``."""
    path = sandbox_of(request).storage.blob_path(stored.blob)
    return FileResponse(path, filename=stored.key, headers={"Content-MD5": stored.md5})


def json_response(content: Any, status: int = 200) -> JSONResponse:
    """Return a JSON answer."""
    return JSONResponse(content, status_code=status)

"""The legacy deposit API: ``/api/deposit/depositions`` with its files and actions.

Status codes are today's (zenodo-rdm's legacy layer), not the old documentation's: create
201, delete 204 (404 when already gone or published), publish 202, edit and newversion 201,
discard 204 with no body, sorting or renaming files 405.
"""

from __future__ import annotations

import os
import re
import unicodedata
from typing import Any, cast

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from zenodo_export.sandbox import defaults, serializers
from zenodo_export.sandbox.auth import ACTIONS, WRITE
from zenodo_export.sandbox.buckets import write_chunks
from zenodo_export.sandbox.errors import (
    TOO_LARGE,
    ApiError,
    field_error,
    not_found,
    validation_error,
)
from zenodo_export.sandbox.service import ListQuery, Sandbox, SizeLimit, StatusFilter
from zenodo_export.sandbox.storage import Deposition
from zenodo_export.sandbox.web import (
    caller_of,
    json_body,
    json_response,
    only_keys,
    path_int,
    sandbox_of,
    urls_of,
)

SORTS = ("mostrecent", "bestmatch")


def deposition_json(request: Request, dep: Deposition, *, in_list: bool = False) -> dict[str, Any]:
    """Return the legacy JSON of a deposition."""
    sandbox = sandbox_of(request)
    versions = sandbox.versions(dep)
    return serializers.deposition(
        dep, sandbox.files(dep), urls_of(request), versions, in_list=in_list
    )


def _owned(request: Request, *, needs: str = WRITE) -> tuple[Sandbox, Deposition]:
    sandbox = sandbox_of(request)
    return sandbox, sandbox.owned(caller_of(request, needs=needs), path_int(request))


def parse_list_query(params: dict[str, str]) -> ListQuery:
    """Parse the list's query parameters; 400 naming the first bad one."""
    status = params.get("status") or None
    if status not in (None, "draft", "published"):
        raise validation_error([field_error("status", "Must be one of: draft, published.")])
    status_filter = cast(StatusFilter, status)
    if params.get("sort", "mostrecent").lstrip("-") not in SORTS:
        raise validation_error([field_error("sort", f"Must be one of: {', '.join(SORTS)}.")])
    numbers = {}
    for name, default, high in (
        ("page", 1, 10**6),
        ("size", defaults.PAGE_SIZE, defaults.MAX_PAGE_SIZE),
    ):
        value = params.get(name, str(default))
        if not value.isdigit() or not 1 <= int(value) <= high:
            raise validation_error([field_error(name, f"Must be between 1 and {high}.")])
        numbers[name] = int(value)
    all_versions = params.get("all_versions", "true").lower() not in ("0", "false", "no")
    return ListQuery(
        status_filter, params.get("q", ""), numbers["page"], numbers["size"], all_versions
    )


async def list_depositions(request: Request) -> Response:
    """List the caller's depositions, newest first, as the (lagging) search index has them."""
    sandbox = sandbox_of(request)
    query = parse_list_query(dict(request.query_params))
    found = sandbox.listing(caller_of(request), query)
    return json_response([deposition_json(request, dep, in_list=True) for dep in found])


async def create_deposition(request: Request) -> Response:
    """Create a deposition; only ``metadata`` is accepted at the top level."""
    sandbox = sandbox_of(request)
    caller = caller_of(request)
    body = only_keys(await json_body(request), {"metadata"})
    dep = sandbox.create(caller, body.get("metadata") or {})
    return json_response(deposition_json(request, dep), 201)


async def get_deposition(request: Request) -> Response:
    """Return one deposition."""
    _, dep = _owned(request)
    return json_response(deposition_json(request, dep))


async def update_deposition(request: Request) -> Response:
    """Replace the metadata of a draft or an edit."""
    sandbox, dep = _owned(request)
    body = only_keys(await json_body(request), {"metadata"})
    dep = sandbox.update(dep, body.get("metadata") or {})
    return json_response(deposition_json(request, dep))


async def delete_deposition(request: Request) -> Response:
    """Delete a never-published deposition."""
    sandbox, dep = _owned(request)
    sandbox.delete(dep)
    return Response(status_code=204)


async def list_files(request: Request) -> Response:
    """List a deposition's files in the deposition view's shape."""
    sandbox, dep = _owned(request)
    urls = urls_of(request)
    return json_response([serializers.deposition_file(dep, f, urls) for f in sandbox.files(dep)])


def _file(request: Request) -> tuple[Sandbox, Deposition, Any]:
    sandbox, dep = _owned(request)
    stored = sandbox.storage.file(dep.bucket, file_id=request.path_params["file_id"])
    if stored is None:
        raise not_found("File does not exist.")
    return sandbox, dep, stored


async def get_file(request: Request) -> Response:
    """Return one file of a deposition."""
    _, dep, stored = _file(request)
    return json_response(serializers.deposition_file(dep, stored, urls_of(request)))


async def delete_file(request: Request) -> Response:
    """Delete one file of a draft (403 once published)."""
    sandbox, dep, stored = _file(request)
    sandbox.delete_file(dep, stored)
    return Response(status_code=204)


def secure_filename(name: str) -> str:
    """Make a file name safe the way werkzeug's ``secure_filename`` does (as Zenodo uses it)."""
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    for sep in (os.sep, os.path.altsep, "/"):
        if sep:
            name = name.replace(sep, " ")
    return re.sub(r"[^A-Za-z0-9_.-]", "", "_".join(name.split())).strip("._")


async def upload_multipart(request: Request) -> Response:
    """Store a file sent the old way (multipart ``file`` and optional ``name``)."""
    sandbox, dep = _owned(request)
    if dep.submitted:
        raise not_found()
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > sandbox.config.multipart_max_bytes:
        raise ApiError(413, TOO_LARGE)
    async with request.form(max_files=1, max_fields=20) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise validation_error([field_error("file", "Missing data for required field.")])
        name = form.get("name")
        key = secure_filename(name if isinstance(name, str) and name else upload.filename or "")
        if not key:
            raise validation_error([field_error("name", "Invalid file name.")])
        if sandbox.storage.file(dep.bucket, key=key) is not None:
            raise ApiError(400, f"A file named {key} already exists.")
        limit = sandbox.size_limit(dep, key)
        limit = SizeLimit(min(limit.limit, sandbox.config.multipart_max_bytes), limit.message)
        target = sandbox.storage.temp_path()
        size, md5 = await write_chunks(_chunks(upload), target, limit)
    stored = sandbox.storage.put_file(dep.bucket, key, source=target, size=size, md5=md5)
    return json_response(serializers.deposition_file(dep, stored, urls_of(request)), 201)


async def _chunks(upload: UploadFile) -> Any:
    while chunk := await upload.read(defaults.CHUNK_SIZE):
        yield chunk


async def not_implemented(request: Request) -> Response:
    """Answer 405 like Zenodo for sorting and renaming files."""
    raise ApiError(405, "The method is not allowed for the requested URL.")


async def action(request: Request) -> Response:
    """Run publish (202), edit (201), discard (204) or newversion (201)."""
    name = request.path_params["action"]
    if name not in ("publish", "edit", "discard", "newversion"):
        raise not_found()
    sandbox, dep = _owned(request, needs=WRITE if name == "newversion" else ACTIONS)
    if name == "publish":
        return json_response(deposition_json(request, sandbox.publish(dep)), 202)
    if name == "edit":
        return json_response(deposition_json(request, sandbox.edit(dep)), 201)
    if name == "discard":
        sandbox.discard(dep)
        return Response(status_code=204)
    return json_response(deposition_json(request, sandbox.new_version(dep)), 201)


def routes() -> list[BaseRoute]:
    """Return the deposit API routes."""
    base = "/api/deposit/depositions"
    one = base + "/{id:int}"
    return [
        Route(base, list_depositions, methods=["GET"]),
        Route(base, create_deposition, methods=["POST"]),
        Route(one, get_deposition, methods=["GET"]),
        Route(one, update_deposition, methods=["PUT"]),
        Route(one, delete_deposition, methods=["DELETE"]),
        Route(one + "/files", list_files, methods=["GET"]),
        Route(one + "/files", upload_multipart, methods=["POST"]),
        Route(one + "/files", not_implemented, methods=["PUT"]),
        Route(one + "/files/{file_id}", get_file, methods=["GET"]),
        Route(one + "/files/{file_id}", delete_file, methods=["DELETE"]),
        Route(one + "/files/{file_id}", not_implemented, methods=["PUT"]),
        Route(one + "/actions/{action}", action, methods=["POST"]),
    ]

"""The Files-REST bucket API: ``PUT/GET/DELETE {links.bucket}/{key}`` and ``GET {links.bucket}``.

An upload streams the body to a temp file in the data dir chunk by chunk while computing its
md5 in the same pass; memory stays at one chunk whatever the size. Only a complete body is
stored, atomically replacing a file of the same key. A body that stops short of its
Content-Length (the client goes quiet for ``body_idle_timeout``) or runs past it stores
nothing and gets 400, like Zenodo's "Content-Length does not match file size.".
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from zenodo_export.sandbox import serializers, wire
from zenodo_export.sandbox.errors import ApiError, error_body, not_found
from zenodo_export.sandbox.service import SizeLimit
from zenodo_export.sandbox.storage import StoredFile
from zenodo_export.sandbox.web import caller_of, file_response, json_response, sandbox_of, urls_of

LENGTH_MISMATCH = "Content-Length does not match file size."
MAX_KEY_LENGTH = 255


async def write_chunks(
    chunks: AsyncIterator[bytes], target: Path, limit: SizeLimit
) -> tuple[int, str]:
    """Write ``chunks`` to ``target``, hashing as they go; 400 past ``limit`` (nothing kept)."""
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    try:
        with target.open("wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit.limit:
                    raise ApiError(400, limit.message)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()


async def _body_until_idle(request: Request, idle_seconds: float) -> AsyncIterator[bytes]:
    """Yield the request body; stop early when the client sends nothing for ``idle_seconds``."""
    stream = request.stream()
    while True:
        try:
            async with asyncio.timeout(idle_seconds or None):
                chunk = await anext(stream)
        except (StopAsyncIteration, TimeoutError):
            return
        if chunk:
            yield chunk


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


async def put_object(request: Request) -> Response:
    """Store the raw body as ``key`` (201 with the bucket object; same key overwrites)."""
    sandbox = sandbox_of(request)
    caller = caller_of(request)
    bucket, key = request.path_params["bucket"], request.path_params["key"]
    dep = sandbox.writable_bucket(caller, bucket)
    if len(key) > MAX_KEY_LENGTH:
        raise ApiError(400, "Filename is too long.")
    limit = sandbox.size_limit(dep, key)
    declared = _declared_length(request)
    if declared is not None and declared > limit.limit:
        raise ApiError(400, limit.message)
    target = sandbox.storage.temp_path()
    chunks = _body_until_idle(request, sandbox.config.body_idle_timeout)
    size, md5 = await write_chunks(chunks, target, limit)
    if (declared is not None and size != declared) or wire.bytes_beyond_body(request.scope):
        target.unlink(missing_ok=True)
        raise ApiError(400, LENGTH_MISMATCH)
    try:
        # Another upload may have landed while this one streamed: check the limits again.
        dep = sandbox.writable_bucket(caller, bucket)
        limit = sandbox.size_limit(dep, key)
        if size > limit.limit:
            raise ApiError(400, limit.message)
    except ApiError:
        target.unlink(missing_ok=True)
        raise
    stored = sandbox.storage.put_file(bucket, key, source=target, size=size, md5=md5)
    return json_response(serializers.bucket_object(stored, urls_of(request)), 201)


def _object(request: Request) -> StoredFile:
    """Return the bucket object named in the path, for its owner."""
    sandbox = sandbox_of(request)
    dep = sandbox.bucket_owned(caller_of(request), request.path_params["bucket"])
    stored = sandbox.storage.file(dep.bucket, key=request.path_params["key"])
    if stored is None:
        raise not_found("Object does not exists.")
    return stored


async def get_object(request: Request) -> Response:
    """Stream a bucket object's content."""
    return file_response(request, _object(request))


async def delete_object(request: Request) -> Response:
    """Delete a draft's object; answers 500 afterwards by default, as Zenodo does today."""
    sandbox = sandbox_of(request)
    stored = _object(request)
    dep = sandbox.writable_bucket(caller_of(request), stored.bucket)
    sandbox.delete_file(dep, stored)
    if sandbox.config.bucket_delete_500:
        # zenodo/zenodo#2561: the file is gone, yet the answer is a 500.
        return JSONResponse(error_body(500, "Internal server error."), status_code=500)
    return Response(status_code=204)


async def get_bucket(request: Request) -> Response:
    """List a bucket's objects under ``contents``."""
    sandbox = sandbox_of(request)
    dep = sandbox.bucket_owned(caller_of(request), request.path_params["bucket"])
    body = serializers.bucket(
        dep,
        sandbox.files(dep),
        urls_of(request),
        quota=sandbox.config.max_record_bytes,
        max_file=sandbox.config.max_file_bytes,
    )
    return json_response(body)


def routes() -> list[BaseRoute]:
    """Return the bucket routes (a key with ``/`` matches none of them: 404)."""
    return [
        Route("/api/files/{bucket}", get_bucket, methods=["GET"]),
        Route("/api/files/{bucket}/{key}", put_object, methods=["PUT"]),
        Route("/api/files/{bucket}/{key}", get_object, methods=["GET", "HEAD"]),
        Route("/api/files/{bucket}/{key}", delete_object, methods=["DELETE"]),
    ]

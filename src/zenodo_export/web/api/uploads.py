"""``POST /api/v1/exports/upload``: a multipart upload streamed into the files store.

The request body is parsed as it arrives (``python-multipart``'s push parser, fed one chunk
of the socket at a time) and each file part is written straight into the files store under
its content's key, its md5 computed in the same pass: memory stays about one chunk whatever
the size. The files of one request may hold ``ZENODO_EXPORT_WEB_UPLOAD_MAX_BYTES`` in all; a
request that declares more is refused before a byte is read, one that sends more is cut off
there; both answer 413. Whatever a refused request had written is removed (content another
export also holds stays), and the export is created only once every file is in the store.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

import anyio.from_thread
from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from zenodo_export.errors import InvalidExport, Rejected, TooLarge
from zenodo_export.exports.service import create_and_queue
from zenodo_export.exports.undo import _held_keys as held_keys
from zenodo_export.filestore import FilesStore, StagedFile, files_store
from zenodo_export.store import Store
from zenodo_export.web.api.deps import Acting
from zenodo_export.web.api.exports import creation_attributes, read, router
from zenodo_export.web.api.models import ErrorBody, ExportPublic
from zenodo_export.web.context import WebState

MAX_FIELDS_BYTES = 1024 * 1024
"""Bytes the metadata parts of one upload may hold in all (a description is a few KiB)."""

DRAIN_BYTES = 16 * 1024 * 1024
"""Bytes of a refused body still read (and dropped) so that the client hears the 413 rather
than a reset connection; a bigger remainder is not waited for."""

LISTS = ("creators", "keywords", "communities")
"""Fields a part may give more than once (one value each)."""

SCALARS = (
    "name",
    "title",
    "description",
    "publication_date",
    "code_repository_url",
    "license",
    "version",
    "versioning",
)
"""Fields given once."""

UPLOADED = "/upload"
"""Where an uploaded file says it was read from (it has no path on any machine)."""


def _schema() -> dict[str, Any]:
    text = {"type": "string"}
    properties: dict[str, Any] = {name: text for name in SCALARS}
    properties["versioning"] = {"type": "string", "enum": ["native", "related-identifier", "none"]}
    properties.update({name: {"type": "array", "items": text} for name in LISTS})
    properties["files"] = {"type": "array", "items": {"type": "string", "format": "binary"}}
    required = ["name", "title", "description", "keywords", "files"]
    body = {"type": "object", "properties": properties, "required": required}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": body}}}}


def body_chunks(request: Request) -> Iterator[bytes]:
    """Yield the request body as it arrives (from a handler running in a worker thread)."""
    stream = request.stream()

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None
        except ClientDisconnect:
            raise Rejected("the client went away before the upload was complete") from None

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        if chunk:
            yield chunk


class Parts:
    """The parts of a multipart body, read as events: ``("part", disposition)``,
    ``("data", bytes)``, ``("end", b"")``, parsed from the body only as they are asked for."""

    def __init__(self, chunks: Iterator[bytes], boundary: bytes) -> None:
        self.chunks = chunks
        self.events: deque[tuple[str, Any]] = deque()
        self._field = b""
        self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self.parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": lambda: self.events.append(("end", b"")),
            },
        )
        self._done = False

    def _begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self.events.append(("part", options))

    def _data(self, data: bytes, start: int, end: int) -> None:
        self.events.append(("data", bytes(data[start:end])))

    def next(self) -> tuple[str, Any] | None:
        """Return the next event, reading the body as far as needed; None at its end."""
        while not self.events and not self._done:
            chunk = next(self.chunks, None)
            try:
                if chunk is None:
                    self.parser.finalize()
                    self._done = True
                else:
                    self.parser.write(chunk)
            except FormParserError as exc:
                raise InvalidExport("body", f"not a valid multipart body ({exc})") from None
        return self.events.popleft() if self.events else None

    def data(self) -> Iterator[bytes]:
        """Yield the current part's content up to its end."""
        while (event := self.next()) is not None and event[0] == "data":
            yield event[1]
        if event is None:
            raise InvalidExport("files", "the body ended inside a part: the upload is cut short")


class Upload:
    """One request's parts: metadata fields collected, files written into the store."""

    def __init__(self, files: FilesStore, *, max_bytes: int) -> None:
        self.files = files
        self.max_bytes = max_bytes
        self.fields: dict[str, list[str]] = {}
        self.staged: list[StagedFile] = []
        self.file_bytes = 0
        self.field_bytes = 0

    def read(self, parts: Parts) -> None:
        """Read every part of the body."""
        while (event := parts.next()) is not None:
            kind, options = event
            if kind != "part":
                continue
            name = options.get(b"name", b"").decode("utf-8", "replace")
            filename = options.get(b"filename")
            if filename is None:
                self._field(name, parts)
            else:
                self._file(name, filename.decode("utf-8", "replace"), parts)

    def _field(self, name: str, parts: Parts) -> None:
        if name not in SCALARS + LISTS:
            known = ", ".join((*SCALARS, *LISTS, "files"))
            raise InvalidExport(name or "part", f"is not a field of an export (fields: {known})")
        value = b""
        for chunk in parts.data():
            self.field_bytes += len(chunk)
            if self.field_bytes > MAX_FIELDS_BYTES:
                raise InvalidExport(name, f"the fields hold more than {MAX_FIELDS_BYTES} bytes")
            value += chunk
        try:
            self.fields.setdefault(name, []).append(value.decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidExport(name, "is not UTF-8 text") from None

    def _file(self, name: str, filename: str, parts: Parts) -> None:
        if name != "files":
            raise InvalidExport(name or "part", "only parts named 'files' may hold a file")
        base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
        field = f"files[{len(self.staged)}]"
        if base in ("", ".", ".."):
            raise InvalidExport(field, f"{filename[:200]!r} is not a file name")
        written = self.files.write(self._counted(parts.data()), what=f"upload {base}")
        entry = StagedFile(base, f"{UPLOADED}/{base}", written.key, written.size, written.md5)
        self.staged.append(entry)
        if written.size == 0:
            raise InvalidExport(field, f"{base} is empty")

    def _counted(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.file_bytes += len(chunk)
            if self.file_bytes > self.max_bytes:
                raise TooLarge("files", too_large(self.max_bytes))
            yield chunk

    def attributes(self) -> dict[str, Any]:
        """Return the export's attributes from the fields (a field given twice is refused)."""
        given: dict[str, Any] = {}
        for name, values in self.fields.items():
            if name in LISTS:
                given[name] = values
            elif len(values) > 1:
                raise InvalidExport(name, "is given more than once")
            else:
                given[name] = values[0]
        return {**given, "files": tuple(self.staged)}

    def remove(self, store: Store) -> None:
        """Remove what this upload wrote, but content an export holds."""
        with store.transaction() as session:
            held = held_keys(session)  # as deleting an export does
        for entry in self.staged:
            if entry.key not in held:
                self.files.delete(entry.key)


def too_large(max_bytes: int) -> str:
    """Say that an upload is too large."""
    return (
        f"the upload holds more than {max_bytes} bytes of files "
        "(ZENODO_EXPORT_WEB_UPLOAD_MAX_BYTES); nothing was kept"
    )


def boundary_of(request: Request) -> bytes:
    """Return the multipart boundary of the request; ``InvalidExport`` when it is not one."""
    kind, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidExport(
            "body", "send the metadata and files as multipart/form-data (curl -F ...)"
        )
    return boundary


def declared_too_large(request: Request, max_bytes: int) -> bool:
    """Say whether the request's ``Content-Length`` is beyond what an upload may hold."""
    declared = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > max_bytes + MAX_FIELDS_BYTES


def drained(chunks: Iterator[bytes]) -> None:
    """Read (and drop) up to ``DRAIN_BYTES`` more of a refused body."""
    left = DRAIN_BYTES
    for chunk in chunks:
        left -= len(chunk)
        if left <= 0:
            return


@router.post(
    "/upload",
    status_code=201,
    summary="Create an export of uploaded files",
    responses={413: {"model": ErrorBody, "description": "The files are too large."}},
    openapi_extra=_schema(),
)
def upload_export(request: Request, web: WebState, _: Acting) -> ExportPublic:
    """Stream the files of a multipart body into the files store and queue their export.

    Parts: the ``export`` command's metadata (``keywords``, ``creators`` and ``communities``
    once per value) and one ``files`` part per file, named by its file name.
    """
    settings, max_bytes = web.settings, web.settings.web_upload_max_bytes
    chunks = body_chunks(request)
    if declared_too_large(request, max_bytes):
        drained(chunks)
        raise TooLarge("files", too_large(max_bytes))
    upload = Upload(files_store(settings), max_bytes=max_bytes)
    try:
        upload.read(Parts(chunks, boundary_of(request)))
        attributes = creation_attributes(settings, upload.attributes())
        export_id = create_and_queue(web.store, **attributes)
    except BaseException as exc:
        upload.remove(web.store)
        if isinstance(exc, TooLarge):
            drained(chunks)  # so that the client reads the 413, not a reset connection
        raise
    return read(web.store, export_id)

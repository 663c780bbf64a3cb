"""The files store: where an export's files wait for a worker, in a place every worker reaches.

Layout under the store's root::

    blobs/<aa>/<sha256>     a staged file's content, stored once whatever its name
    outputs/<...>           files that reports and snapshots write, by name
    tmp/<uuid>              a file being written; moved to its key only when complete

Every write streams into ``tmp/`` while its md5 and sha256 are computed, then moves to its key,
so a key holds a complete file or nothing, on a local disk (a rename) as on object storage (a
copy made by the server). Staging the same content twice stores it once. Every failure of the
file system is translated here, once: a missing staged file is ``StagedFileMissing``; a refused
or failed write is ``StorageUnavailable`` (a worker retries it); a store that cannot be used at
all (no bucket, no credentials) is ``ConfigError``. Each names the store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from zenodo_export.errors import (
    ConfigError,
    StagedFileMissing,
    StorageUnavailable,
    ZenodoExportError,
)
from zenodo_export.filestore.location import SETTING, Location
from zenodo_export.filestore.staged import StagedFile, blob_key
from zenodo_export.localfiles import PRIVATE_FILE_MODE, make_private_directory

CHUNK = 1024 * 1024
"""Bytes read or written at a time: memory stays about one chunk whatever the file's size."""

REMOTE_BLOCK = 8 * 1024 * 1024
"""Bytes an object store's file buffers at a time, reading or writing (s3fs's default is
50 MiB, held two or three times over: a worker reading from S3 took 186 MB more than from a
folder). 8 MiB parts still allow objects of 80 GB (S3 takes 10,000 parts)."""

CONFIG_PROBLEMS = ("NoCredentialsError", "PartialCredentialsError", "NoSuchBucket")
"""Names of storage library errors that no retry mends (checked by name: no import needed)."""


@dataclass(frozen=True)
class Written:
    """A file written into the store: its key, size and digests."""

    key: str
    size: int
    md5: str
    sha256: str


def modified_at(info: dict[str, Any]) -> dt.datetime | None:
    """Return when a listed file was last written, from what its file system says."""
    value = info.get("mtime", info.get("LastModified", info.get("last_modified")))
    value = info.get("Initiated") if value is None else value  # an interrupted S3 upload
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


class FilesStore:
    """Read and write files by key in one store location."""

    def __init__(self, location: Location) -> None:
        self.location = location
        self.fs = location.fs

    @property
    def _blocks(self) -> dict[str, int]:
        return {} if self.location.local else {"block_size": REMOTE_BLOCK}

    @property
    def shown(self) -> str:
        """The store as messages name it."""
        return self.location.shown

    def path(self, key: str) -> str:
        """Return the full path of ``key`` on the store's file system."""
        return f"{self.location.root}/{key}"

    # -- writing -------------------------------------------------------------------------

    def write(self, chunks: Iterable[bytes], key: str | None = None, *, what: str = "") -> Written:
        """Stream ``chunks`` to ``key`` (default: their content's key); return what was written.

        The key appears only once complete; content already stored under its content key is
        not stored again.
        """
        temporary = f"tmp/{uuid.uuid4().hex}"
        md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
        with self._translated(what or key or "a file", writing=True):
            self._make_parent(temporary)
            try:
                with self.fs.open(self.path(temporary), "wb", **self._blocks) as stream:
                    for chunk in chunks:
                        md5.update(chunk)
                        sha256.update(chunk)
                        size += len(chunk)
                        stream.write(chunk)
                written = Written(
                    key or blob_key(sha256.hexdigest()), size, md5.hexdigest(), sha256.hexdigest()
                )
                self._settle(temporary, written.key, replace=key is not None)
            except BaseException:
                with contextlib.suppress(Exception):
                    self.fs.rm(self.path(temporary))
                raise
        return written

    def stage(self, path: Path, name: str) -> StagedFile:
        """Stream a local file into the store under its content's key; return its entry."""
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {path}: {exc.strerror or exc}") from None
        with stream:
            written = self.write(iter(lambda: stream.read(CHUNK), b""), what=str(path))
        return StagedFile(name, str(path.absolute()), written.key, written.size, written.md5)

    def put_file(self, path: Path, key: str) -> None:
        """Move a complete local file to ``key``: a rename on a local store of the same disk,
        else a streamed copy, then the local file is removed."""
        if self.location.local:
            with self._translated(key, writing=True):
                self._make_parent(key)
                try:
                    os.replace(path, self.path(key))
                    return
                except OSError as exc:
                    if exc.errno != errno.EXDEV:
                        raise
        with path.open("rb") as stream:
            self.write(iter(lambda: stream.read(CHUNK), b""), key, what=key)
        path.unlink()

    def delete_folder(self, prefix: str) -> None:
        """Remove every key under ``prefix``; a folder already gone is fine."""
        with self._translated(prefix, writing=True), contextlib.suppress(FileNotFoundError):
            if self.fs.exists(self.path(prefix)):
                self.fs.rm(self.path(prefix), recursive=True)

    def _make_parent(self, key: str) -> None:
        if self.location.local:
            make_private_directory(Path(self.path(key)).parent)

    def _settle(self, temporary: str, key: str, *, replace: bool) -> None:
        # The same content stored already is kept, its time refreshed: a sweep removes only
        # keys written longer ago than the retention, so content staged again now stays.
        if not replace and self.location.local and os.path.exists(self.path(key)):
            os.utime(self.path(key))
            os.remove(self.path(temporary))
            return
        self._make_parent(key)
        if self.location.local:
            os.chmod(self.path(temporary), PRIVATE_FILE_MODE)
            os.replace(self.path(temporary), self.path(key))
        else:
            self.fs.mv(self.path(temporary), self.path(key))

    def probe(self) -> None:
        """Write a small file, read it back and remove it; raise as any write or read would."""
        content = b"zenodo-export probe\n"
        written = self.write([content], f"tmp/probe-{uuid.uuid4().hex}", what="a probe")
        try:
            if b"".join(self.chunks(written.key)) != content:
                raise StorageUnavailable(f"files store {self.shown}: gave back other bytes")
        finally:
            self.delete(written.key)

    # -- reading -------------------------------------------------------------------------

    def open(self, key: str, *, name: str = "") -> IO[bytes]:
        """Open ``key`` for streaming; ``StagedFileMissing`` naming the file and the store."""
        with self._translated(name or key, writing=False):
            stream: IO[bytes] = self.fs.open(self.path(key), "rb", **self._blocks)
            return stream

    def chunks(self, key: str, *, name: str = "", size: int = CHUNK) -> Iterator[bytes]:
        """Yield the content of ``key``, ``size`` bytes at a time."""
        with self.open(key, name=name) as stream, self._translated(name or key, writing=False):
            while chunk := stream.read(size):
                yield chunk

    def exists(self, key: str) -> bool:
        """Say whether ``key`` holds a file."""
        with self._translated(key, writing=False):
            return bool(self.fs.exists(self.path(key)))

    def size(self, key: str) -> int:
        """Return the size of ``key`` in bytes."""
        with self._translated(key, writing=False):
            return int(self.fs.size(self.path(key)))

    def delete(self, key: str) -> None:
        """Remove ``key`` (and an interrupted upload to it); a key already gone is fine."""
        with self._translated(key, writing=True):
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(self.path(key))
            if key.startswith("tmp/"):
                for upload in self._interrupted_uploads(key):
                    if upload["Key"] == self._object_key(key):
                        self._call_s3(
                            "abort_multipart_upload",
                            Bucket=self._bucket(),
                            Key=upload["Key"],
                            UploadId=upload["UploadId"],
                        )

    def listing(self, prefix: str) -> dict[str, int]:
        """Return every key under ``prefix`` with its size."""
        return {key: size for key, (size, _) in self.aged_listing(prefix).items()}

    def aged_listing(self, prefix: str) -> dict[str, tuple[int, dt.datetime | None]]:
        """Return every key under ``prefix`` with its size and when it was last written."""
        with self._translated(prefix, writing=False):
            base = self.path(prefix).rstrip("/")
            found = self.fs.find(base, detail=True) if self.fs.exists(base) else {}
            interrupted = self._interrupted_uploads(f"{prefix.rstrip('/')}/")
            root = self.location.root.rstrip("/").lstrip("/")
            listed = {
                path.lstrip("/").removeprefix(root).lstrip("/"): (
                    int(info.get("size") or 0),
                    modified_at(info),
                )
                for path, info in found.items()
            }
            for upload in interrupted:
                key = upload["Key"].removeprefix(self._object_key(""))
                listed.setdefault(key, (self._parts_size(upload), modified_at(upload)))
        return listed

    # -- interrupted multipart uploads (object storage) ----------------------------------
    #
    # A writer killed while streaming a large file to S3 leaves a multipart upload begun and
    # never completed: no listing shows it, and the storage provider keeps (and bills) its
    # parts until it is aborted. ``aged_listing`` shows such uploads under their key (their
    # parts' size, when they began), so the sweep that removes interrupted writes from
    # ``tmp/`` removes these too; ``delete`` aborts them.

    def _call_s3(self, method: str, **kwargs: object) -> dict[str, Any]:
        result: dict[str, Any] = self.fs.call_s3(method, **kwargs)
        return result

    def _bucket(self) -> str:
        return self.location.root.lstrip("/").partition("/")[0]

    def _object_key(self, key: str) -> str:
        """Return the object key of ``key`` in its bucket."""
        within = self.location.root.lstrip("/").partition("/")[2].strip("/")
        return f"{within}/{key}" if within else key

    def _interrupted_uploads(self, prefix: str) -> list[dict[str, Any]]:
        """Return the multipart uploads begun under ``prefix`` and not completed (S3 only)."""
        if self.location.local or not callable(getattr(self.fs, "call_s3", None)):
            return []
        uploads: list[dict[str, Any]] = []
        request: dict[str, object] = {"Bucket": self._bucket(), "Prefix": self._object_key(prefix)}
        while True:
            try:
                page = self._call_s3("list_multipart_uploads", **request)
            except PermissionError:  # a policy without s3:ListBucketMultipartUploads
                return uploads
            uploads.extend(page.get("Uploads") or [])
            if not page.get("IsTruncated"):
                return uploads
            request.update(
                KeyMarker=page.get("NextKeyMarker", ""),
                UploadIdMarker=page.get("NextUploadIdMarker", ""),
            )

    def _parts_size(self, upload: dict[str, Any]) -> int:
        """Return the bytes the parts of an interrupted upload hold."""
        size, request = 0, {"Bucket": self._bucket(), "Key": upload["Key"]}
        request["UploadId"] = upload["UploadId"]
        while True:
            page = self._call_s3("list_parts", **request)
            size += sum(int(part.get("Size") or 0) for part in page.get("Parts") or [])
            if not page.get("IsTruncated"):
                return size
            request["PartNumberMarker"] = page.get("NextPartNumberMarker", 0)

    # -- errors --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _translated(self, what: str, *, writing: bool) -> Iterator[None]:
        try:
            yield
        except ZenodoExportError:
            raise  # ours already: the store's own, or one a caller's chunks raised
        except FileNotFoundError:
            if writing:
                raise ConfigError(
                    f"setting {SETTING}: {self.shown} does not exist (no such bucket or folder)"
                ) from None
            raise StagedFileMissing(
                f"{what} is missing from the files store {self.shown}"
            ) from None
        except Exception as exc:
            raise self._problem(what, exc, writing=writing) from exc

    def _problem(self, what: str, exc: Exception, *, writing: bool) -> Exception:
        name = type(exc).__name__
        if isinstance(exc, NotImplementedError) and writing:
            return ConfigError(f"setting {SETTING}: {self.shown} cannot store files (read-only)")
        if isinstance(exc, NotADirectoryError) and writing:
            return ConfigError(f"setting {SETTING}: {self.shown} is not a folder")
        if name in CONFIG_PROBLEMS or "credentials" in str(exc).lower():
            if not writing:  # a worker without credentials: others may have them, retry later
                return StorageUnavailable(
                    f"files store {self.shown}: reading {what}: no usable credentials here ({name})"
                )
            return ConfigError(
                f"setting {SETTING}: {self.shown}: no usable credentials ({name}); set them as "
                "the storage library reads them (for S3: AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or ~/.aws)"
            )
        doing = "writing" if writing else "reading"
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            reason = "no space left"
        elif isinstance(exc, PermissionError):
            reason = "permission denied"
        else:
            reason = f"{name}: {str(exc).splitlines()[0] if str(exc) else 'failed'}"
        return StorageUnavailable(f"files store {self.shown}: {doing} {what}: {reason}")

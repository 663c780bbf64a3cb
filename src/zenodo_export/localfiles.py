"""Writing local files: atomically, only when there is room, and failures said in one line.

Every file zenodo-export writes (snapshot parts and dumps, report CSVs and READMEs, zips) goes
through ``atomic_writer``: the bytes go to a temporary file beside the final name, are synced
to disk and renamed into place, so a reader (or the upload) sees the whole file or none of it.
The temporary file is removed on ANY failure, so a full disk or a killed job leaves no
half-written file behind (a worker killed with ``kill -9`` may leave one ``.*.tmp`` file,
which the next write of the same path does not reuse).

``OSError``s that mean "this disk or directory cannot take our file" (disk full, quota,
permission denied, read-only) become ``LocalIOError`` naming the path and the cause, chained
with ``from exc``: a ``Transient`` error, so the job is retried with back-off and fails for
good (with an alert) after its last attempt. Other ``OSError``s (a missing source file, say)
are left as they are. ``concatenate`` and ``zip_files`` check with ``ensure_room`` that their
output fits before they write a byte: a zip may not compress, so it needs its inputs' size.

What we write is private: files are created 0600 and the directories we create (the data dir
among them) 0700, whatever the umask; directories that already exist are left as they are.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from zenodo_export.errors import LocalIOError

PRIVATE_FILE_MODE = 0o600
"""Mode of every file we write: the owner reads and writes it, nobody else."""

PRIVATE_DIRECTORY_MODE = 0o700
"""Mode of every directory we create: the owner only."""

COPY_BUFFER = 1024 * 1024
"""Bytes copied at a time when files are concatenated."""

ZIP_MARGIN_BYTES = 16 * 1024
"""Room a zip needs beyond its members' sizes for its directory and headers, at least."""

ZIP_MARGIN_RATIO = 0.01
"""Share of the members' size kept spare as well: deflate may make a file slightly larger."""

CAUSES = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for this disk or process",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.EIO: "input/output error",
}
"""The errors that mean this disk or directory cannot take the file, as we say them."""


def _culprit(path: Path, exc: OSError) -> str:
    """Name the file the system refused when it is not ``path`` nor its temporary file."""
    if exc.filename is None:
        return ""
    culprit = Path(os.fsdecode(exc.filename))
    if culprit == path or culprit.name.startswith(f".{path.name}."):
        return ""
    return f" ({culprit})"


def io_error(path: Path, exc: OSError) -> LocalIOError | None:
    """Return the ``LocalIOError`` that says ``exc`` in one line, or None if it is not ours."""
    cause = CAUSES.get(exc.errno or 0)
    if cause is None:
        return None
    return LocalIOError(f"cannot write {path}: {cause}{_culprit(path, exc)}")


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """Raise a ``LocalIOError`` naming ``path`` for a disk-full or permission ``OSError``."""
    try:
        yield
    except OSError as exc:
        error = io_error(path, exc)
        if error is None:
            raise
        raise error from exc


def make_directory(directory: Path) -> None:
    """Create ``directory`` and its missing parents, 0700; ``LocalIOError`` if we may not."""
    with translated(directory):
        make_private_directory(directory)


def make_private_directory(directory: Path) -> None:
    """Create ``directory`` and each missing parent with mode 0700 (``mkdir -p`` would not).

    Directories that exist keep their mode. ``OSError`` as the system raises it.
    """
    missing: list[Path] = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        with suppress(FileExistsError):  # another process made it first
            path.mkdir(mode=PRIVATE_DIRECTORY_MODE)


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists; say whether it was created."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    os.close(descriptor)
    return True


def _existing(directory: Path) -> Path:
    """Return ``directory`` or its nearest ancestor that exists."""
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return directory


def free_bytes(directory: Path) -> int:
    """Return the bytes an unprivileged process may still write in ``directory``."""
    with translated(directory):
        return shutil.disk_usage(_existing(directory)).free


def ensure_room(directory: Path, needed_bytes: int, *, name: str = "") -> None:
    """Raise ``LocalIOError`` unless ``directory`` has ``needed_bytes`` free."""
    free = free_bytes(directory)
    if free < needed_bytes:
        target = f" for {name}" if name else ""
        raise LocalIOError(
            f"no room in {directory}{target}: {needed_bytes:,} bytes needed, {free:,} free"
        )


def size_of(paths: Iterable[Path]) -> int:
    """Return the total size of ``paths`` in bytes."""
    return sum(path.stat().st_size for path in paths)


def zip_room(files: Sequence[Path], texts: Mapping[str, str] | None = None) -> int:
    """Return the bytes to have free before zipping ``files`` and ``texts`` uncompressed."""
    members = size_of(files) + sum(len(text.encode()) for text in (texts or {}).values())
    return members + int(members * ZIP_MARGIN_RATIO) + ZIP_MARGIN_BYTES


def sync_directory(directory: Path) -> None:
    """Flush ``directory``'s entries to disk, so that a rename in it survives a crash."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def temporary_name(path: Path) -> Path:
    """Return a fresh hidden name beside ``path`` for writing it (``.<name>.<random>.tmp``)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


def _discard(temporary: Path) -> None:
    with suppress(OSError):
        temporary.unlink(missing_ok=True)


@contextmanager
def atomic_writer(path: Path, *, text: bool = False) -> Iterator[IO[Any]]:
    """Yield a stream whose content replaces ``path`` in one rename if the block succeeds.

    ``text`` opens it as UTF-8 text without newline translation (as ``csv`` wants). On any
    failure the temporary file is removed and ``path`` is left as it was.
    """
    with translated(path):
        make_private_directory(path.parent)
        temporary = temporary_name(path)
        try:
            with _open(temporary, text=text) as stream:
                yield stream
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, path)
        except BaseException:
            _discard(temporary)
            raise
        sync_directory(path.parent)


def _open(path: Path, *, text: bool) -> IO[Any]:
    # Created 0600 from the start (not chmod-ed after), so no reader can open it in between.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        if text:
            return os.fdopen(descriptor, "w", encoding="utf-8", newline="")
        return os.fdopen(descriptor, "wb")
    except BaseException:
        os.close(descriptor)
        raise


@contextmanager
def removed_on_failure(paths: Iterable[Path]) -> Iterator[None]:
    """Remove ``paths`` (what the block writes) if it fails, so no half-done set remains."""
    try:
        yield
    except BaseException:
        for path in paths:
            _discard(path)
        raise


def write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` one after the other to ``path``, atomically."""
    with atomic_writer(path) as stream:
        for chunk in chunks:
            stream.write(chunk)


def concatenate(path: Path, sources: Sequence[Path]) -> None:
    """Write the ``sources`` one after the other into ``path``, atomically, streaming."""
    ensure_room(path.parent, size_of(sources), name=path.name)
    with atomic_writer(path) as out:
        for source in sources:
            with source.open("rb") as stream:
                shutil.copyfileobj(stream, out, COPY_BUFFER)


def zip_files(path: Path, files: Sequence[Path], *, texts: Mapping[str, str] | None = None) -> None:
    """Zip ``texts`` (name -> content) and ``files`` (streamed) into ``path``, atomically.

    Nothing is written unless the directory has room for the members uncompressed.
    """
    ensure_room(path.parent, zip_room(files, texts), name=path.name)
    with (
        atomic_writer(path) as stream,
        zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for name, content in (texts or {}).items():
            archive.writestr(name, content)
        for file in files:
            archive.write(file, arcname=file.name)


__all__ = [
    "atomic_writer",
    "concatenate",
    "create_private_file",
    "ensure_room",
    "free_bytes",
    "io_error",
    "make_directory",
    "make_private_directory",
    "removed_on_failure",
    "size_of",
    "translated",
    "write_atomically",
    "zip_files",
    "zip_room",
]

"""A snapshot's files on disk: atomic part files, the dump assembled from them, the zip.

Every file is written to a temporary name, flushed to disk and renamed into place, so a
worker killed at any moment leaves either the whole file or none of it. Assembly streams:
memory stays flat whatever the number of pages.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

COPY_BUFFER = 1024 * 1024
"""Bytes copied at a time when parts are concatenated."""


def _sync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _publish(temporary: Path, path: Path) -> None:
    os.replace(temporary, path)
    _sync_dir(path.parent)


def write_atomically(path: Path, lines: Iterable[bytes]) -> None:
    """Write ``lines`` to ``path`` through a synced temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(path)
    with temporary.open("wb") as stream:
        for line in lines:
            stream.write(line)
        stream.flush()
        os.fsync(stream.fileno())
    _publish(temporary, path)


def concatenate(sources: Sequence[Path], path: Path) -> None:
    """Write the ``sources`` one after the other into ``path``, atomically, streaming."""
    temporary = _temporary(path)
    with temporary.open("wb") as out:
        for source in sources:
            with source.open("rb") as stream:
                shutil.copyfileobj(stream, out, COPY_BUFFER)
        out.flush()
        os.fsync(out.fileno())
    _publish(temporary, path)


def zip_files(files: Sequence[Path], readme: str, path: Path) -> None:
    """Zip ``files`` (streamed from disk) and a ``README.md`` into ``path``, atomically."""
    temporary = _temporary(path)
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.md", readme)
        for file in files:
            archive.write(file, arcname=file.name)
    with temporary.open("rb+") as stream:
        os.fsync(stream.fileno())
    _publish(temporary, path)


def remove_parts(directory: Path) -> None:
    """Delete the part files once the dump that holds them is safe."""
    shutil.rmtree(directory, ignore_errors=True)

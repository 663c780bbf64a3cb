"""The one local-file helper: atomic writes, room checks, and disk errors said in one line."""

from __future__ import annotations

import errno
import random
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.localio.conftest import SmallDisk, temporary_files
from zenodo_export import localfiles
from zenodo_export.errors import LocalIOError, Transient
from zenodo_export.localfiles import (
    atomic_writer,
    concatenate,
    ensure_room,
    io_error,
    translated,
    write_atomically,
    zip_files,
    zip_room,
)

KIB = 1024


def chunks(total: int, size: int = 8 * KIB) -> Iterator[bytes]:
    """Yield ``total`` bytes of random (incompressible) but repeatable data in chunks."""
    rng = random.Random(total)
    for start in range(0, total, size):
        yield rng.randbytes(min(size, total - start))


def test_written_file_replaces_the_old_one_whole(tmp_path: Path) -> None:
    """The new content replaces the old in one rename; nothing else is left in the folder."""
    path = tmp_path / "out" / "file.bin"
    write_atomically(path, [b"old"])
    write_atomically(path, chunks(100 * KIB))
    assert path.read_bytes() == b"".join(chunks(100 * KIB))
    assert list(path.parent.iterdir()) == [path]


def test_any_failure_removes_the_temporary_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    """An error in the middle (not an OSError either) leaves the old file and no temp file."""
    path = tmp_path / "file.csv"
    path.write_text("old\n")

    def failing() -> Iterator[bytes]:
        yield b"new,"
        raise RuntimeError("the query died")

    with pytest.raises(RuntimeError):
        write_atomically(path, failing())
    assert path.read_text() == "old\n"
    assert temporary_files(tmp_path) == []


def test_text_writer_keeps_newlines_as_written(tmp_path: Path) -> None:
    """The text stream is UTF-8 without newline translation (``csv`` writes ``\\r\\n``)."""
    path = tmp_path / "rows.csv"
    with atomic_writer(path, text=True) as stream:
        stream.write("n°,a\r\n1,2\r\n")
    assert path.read_bytes() == "n°,a\r\n1,2\r\n".encode()


def test_full_disk_is_a_transient_error_naming_the_path(
    small_disk: Callable[..., SmallDisk],
) -> None:
    """ENOSPC becomes ``LocalIOError`` (retried) naming the file; no temp file stays."""
    disk = small_disk("64k")
    path = disk.path / "dump.jsondump"
    with pytest.raises(LocalIOError) as raised:
        write_atomically(path, chunks(200 * KIB))
    assert str(raised.value) == f"cannot write {path}: disk full"
    assert isinstance(raised.value, Transient)
    assert isinstance(raised.value.__cause__, OSError)
    assert raised.value.__cause__.errno == errno.ENOSPC
    assert list(disk.path.iterdir()) == []


def test_concatenation_that_cannot_fit_writes_nothing(
    small_disk: Callable[..., SmallDisk],
) -> None:
    """The dump is refused before a byte is written, naming the folder, need and room."""
    disk = small_disk("64k")
    part = disk.path / "parts" / "p1"
    write_atomically(part, chunks(40 * KIB))
    dump = disk.path / "dump.jsondump"
    with pytest.raises(LocalIOError, match=r"no room in .* for dump\.jsondump") as raised:
        concatenate(dump, [part])
    message = str(raised.value)
    assert str(disk.path) in message
    assert "40,960 bytes needed" in message and " free" in message
    assert sorted(p.name for p in disk.path.rglob("*")) == ["p1", "parts"]


def test_zip_is_checked_for_room_before_it_is_written(
    small_disk: Callable[..., SmallDisk],
) -> None:
    """A zip needs its members' size (it may not compress): refused, nothing written."""
    disk = small_disk("96k")
    dump = disk.path / "dump.jsondump"
    write_atomically(dump, [b"a" * 40 * KIB])  # compresses to nothing, but we cannot know
    zipped = disk.path / "dump.zip"
    with pytest.raises(LocalIOError, match=r"no room in .* for dump\.zip"):
        zip_files(zipped, [dump], texts={"README.md": "# Dump\n"})
    assert sorted(p.name for p in disk.path.iterdir()) == ["dump.jsondump"]


def test_zip_that_fills_the_disk_midway_leaves_no_temp_file(
    small_disk: Callable[..., SmallDisk], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Even past the room check (another writer filled the disk), no partial zip stays."""
    disk = small_disk("64k")
    big = tmp_path / "big.bin"
    write_atomically(big, chunks(200 * KIB))
    monkeypatch.setattr(localfiles, "ensure_room", lambda *args, **kwargs: None)
    zipped = disk.path / "big.zip"
    with pytest.raises(LocalIOError, match=re.escape(f"cannot write {zipped}: disk full")):
        zip_files(zipped, [big])
    assert list(disk.path.iterdir()) == []


def test_zip_holds_texts_then_files(tmp_path: Path) -> None:
    """Texts (the README) come first, then the files under their own names."""
    data = tmp_path / "data.csv"
    data.write_text("a,b\n")
    zipped = tmp_path / "out.zip"
    zip_files(zipped, [data], texts={"README.md": "# Read me\n"})
    with zipfile.ZipFile(zipped) as archive:
        assert archive.namelist() == ["README.md", "data.csv"]
        assert archive.read("data.csv") == b"a,b\n"
    assert zip_room([data], {"README.md": "# Read me\n"}) > data.stat().st_size + 10


def test_ensure_room_passes_when_there_is_room(tmp_path: Path) -> None:
    """A folder with room (or not yet created, under one that has) passes."""
    ensure_room(tmp_path / "not" / "yet", 1)


@pytest.mark.parametrize(
    "code,cause",
    [
        (errno.ENOSPC, "disk full"),
        (errno.EDQUOT, "disk quota exceeded"),
        (errno.EACCES, "permission denied"),
        (errno.EPERM, "permission denied"),
        (errno.EROFS, "read-only file system"),
        (errno.EFBIG, "file too large for this disk or process"),
    ],
)
def test_disk_errors_are_said_in_one_line(code: int, cause: str, tmp_path: Path) -> None:
    """Each disk or permission errno becomes one line naming the path and the cause."""
    path = tmp_path / "report.zip"
    error = io_error(path, OSError(code, "system words", str(path)))
    assert error is not None and str(error) == f"cannot write {path}: {cause}"


def test_the_refused_folder_is_named_too(tmp_path: Path) -> None:
    """When the system refused another path (the folder), the message names both."""
    path = tmp_path / "data" / "parts" / "p1"
    with pytest.raises(LocalIOError) as raised, translated(path):
        raise PermissionError(errno.EACCES, "Permission denied", str(path.parent))
    assert str(raised.value) == f"cannot write {path}: permission denied ({path.parent})"


def test_other_os_errors_are_left_alone(tmp_path: Path) -> None:
    """A missing source file is not a disk problem: it is raised as it was."""
    with pytest.raises(FileNotFoundError):
        concatenate(tmp_path / "dump", [tmp_path / "missing-part"])
    assert temporary_files(tmp_path) == []

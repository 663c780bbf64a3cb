"""Bad export input is refused when the export is created, naming the field or the file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.conftest import seed_attributes
from zenodo_export.errors import InvalidExport
from zenodo_export.exports.spec import check_files, parse_spec


def files(tmp_path: Path, count: int, size: int = 3) -> list[Path]:
    paths = []
    for n in range(count):
        path = tmp_path / f"f{n:03}.csv"
        path.write_bytes(b"x" * size)
        paths.append(path)
    return paths


def refused(attributes: dict[str, Any]) -> InvalidExport:
    with pytest.raises(InvalidExport) as caught:
        check_files(parse_spec(attributes))
    return caught.value


def test_more_than_100_files_is_refused(tmp_path: Path) -> None:
    """Zenodo takes at most 100 files per record."""
    assert refused(seed_attributes(files(tmp_path, 101))).field == "files"
    check_files(parse_spec(seed_attributes(files(tmp_path, 100))))


def test_two_files_of_one_name_are_refused(tmp_path: Path) -> None:
    """Two paths ending in the same name would be one file on Zenodo."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in "ab":
        (tmp_path / folder / "stats.csv").write_text("x")
    error = refused(seed_attributes([tmp_path / "a" / "stats.csv", tmp_path / "b" / "stats.csv"]))
    assert "stats.csv" in error.message


def test_a_directory_an_empty_file_and_a_missing_file_are_named(tmp_path: Path) -> None:
    """Each bad file is named in the error."""
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    for path, words in (
        (tmp_path, "not a regular file"),
        (empty, "is empty"),
        (tmp_path / "gone.csv", "does not exist"),
    ):
        error = refused(seed_attributes([path]))
        assert str(path) in error.message and words in error.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    """A file we may not read is refused, naming it."""
    [path] = files(tmp_path, 1)
    path.chmod(0)
    assert "not readable" in refused(seed_attributes([path])).message


def test_more_than_the_record_limit_is_refused(tmp_path: Path) -> None:
    """Files above Zenodo's per-file or per-record bytes are refused before any upload."""
    spec = parse_spec(seed_attributes(files(tmp_path, 3, size=400)))
    with pytest.raises(InvalidExport, match="more than Zenodo's 1000 per record"):
        check_files(spec, max_bytes=1000)
    with pytest.raises(InvalidExport, match=r"f000\.csv has 400 bytes"):
        check_files(spec, max_bytes=300)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("publication_date", "2026-02-30"),
        ("title", "   "),
        ("creators", ["", "A"]),
        ("code_repository_url", "github.com/x"),
        ("files", "one.csv"),
    ],
)
def test_bad_values_name_their_field(tmp_path: Path, field: str, value: Any) -> None:
    """Invalid dates, blank titles or creators, non-URLs, a lone path: the field is named."""
    attributes = {**seed_attributes(files(tmp_path, 1)), field: value}
    with pytest.raises(InvalidExport) as caught:
        parse_spec(attributes)
    assert caught.value.field.split(".")[0] == field

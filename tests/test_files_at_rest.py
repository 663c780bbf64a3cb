"""Files and secrets at rest: private directories and files, no password in ``repr(Settings)``.

Every test runs under umask 000, so a mode that is right is ours, not the umask's.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from zenodo_export.localfiles import (
    atomic_writer,
    concatenate,
    make_directory,
    write_atomically,
    zip_files,
)
from zenodo_export.settings import load_settings
from zenodo_export.store import Store

pytestmark = pytest.mark.hostile


def mode(path: Path) -> int:
    """Return the permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """Run the test with umask 000 (everything readable by all unless we say otherwise)."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_sqlite_database_and_its_data_dir_are_private(tmp_path: Path) -> None:
    """A new data dir is 0700 (parents we create too) and the database, -wal, -shm are 0600."""
    data_dir = tmp_path / "home" / "data"
    store = Store.open(f"sqlite:///{data_dir / 'zenodo-export.db'}")
    try:
        with store.transaction() as session:
            session.execute(text("CREATE TABLE probe (x INTEGER)"))
            session.execute(text("INSERT INTO probe VALUES (1)"))
        files = sorted(path.name for path in data_dir.iterdir())
        assert files == ["zenodo-export.db", "zenodo-export.db-shm", "zenodo-export.db-wal"]
        assert {name: mode(data_dir / name) for name in files} == dict.fromkeys(files, 0o600)
    finally:
        store.dispose()
    assert mode(data_dir) == mode(data_dir.parent) == 0o700


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    """A data dir the deployer made (say 0750 for a group) is not changed."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o750)
    make_directory(data_dir / "reports")
    assert mode(data_dir) == 0o750
    assert mode(data_dir / "reports") == 0o700


def test_every_atomic_write_is_private(tmp_path: Path) -> None:
    """Parts, dumps, CSVs, READMEs and zips are 0600, in directories created 0700."""
    out = tmp_path / "snapshots" / "2026-11-29" / "1"
    write_atomically(out / "part-00000001.jsonl", [b'{"page": 1}\n'])
    with atomic_writer(out / "report.csv", text=True) as stream:
        stream.write("a,b\n")
    concatenate(out / "dump.jsondump", [out / "part-00000001.jsonl"])
    zip_files(out / "dump.zip", [out / "dump.jsondump"], texts={"README.md": "hello"})
    written = sorted(path.name for path in out.iterdir())
    assert written == ["dump.jsondump", "dump.zip", "part-00000001.jsonl", "report.csv"]
    assert {name: mode(out / name) for name in written} == dict.fromkeys(written, 0o600)
    assert {mode(out), mode(out.parent), mode(out.parent.parent)} == {0o700}


def test_a_rewritten_file_becomes_private(tmp_path: Path) -> None:
    """A file that was world-readable is 0600 once we write it again (it is replaced)."""
    path = tmp_path / "part.jsonl"
    path.write_bytes(b"old\n")
    path.chmod(0o644)
    write_atomically(path, [b"new\n"])
    assert mode(path) == 0o600 and path.read_bytes() == b"new\n"


def test_repr_and_str_of_the_settings_hide_the_database_password() -> None:
    """repr() and str() mask the password (userinfo or ?password=); the store gets the real URL."""
    url = "postgresql://export:Pa55w0rd@db.example/zenodo?password=Pa55w0rd&sslmode=require"
    settings = load_settings(database_url=url, zenodo_token="t0ken-value")
    for shown in (repr(settings), str(settings)):
        assert "Pa55w0rd" not in shown and "t0ken-value" not in shown
        assert "postgresql://export:***@db.example/zenodo?password=***&sslmode=require" in shown
    assert settings.resolved_database_url == url


def test_the_database_password_from_the_environment_is_hidden_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DATABASE_URL read from the environment is masked in repr() just the same."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://export:Pa55w0rd@db.example/zenodo")
    settings = load_settings()
    assert "Pa55w0rd" not in repr(settings)
    assert "Pa55w0rd" in settings.resolved_database_url

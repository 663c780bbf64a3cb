"""Files staged at creation: what is published is what was queued, from a store any worker reads.

Real things throughout: a SQLite file, a files store in a temp dir named only by the
``storage`` setting, the sandbox over HTTP, a burst worker in this process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.conftest import make_settings, run_burst, seed_attributes
from tests.snapshots.conftest import alert_messages, read_export
from zenodo_export.errors import InvalidExport
from zenodo_export.exports.retention import sweep_store
from zenodo_export.exports.service import create_and_queue
from zenodo_export.exports.staging import stage_files
from zenodo_export.filestore import FilesStore, files_store
from zenodo_export.jobs import queue
from zenodo_export.settings import Settings
from zenodo_export.store import Store, ZenodoDataExport

Write = Callable[..., Path]


@pytest.fixture
def settings(sandbox: Any, tmp_path: Path) -> Settings:
    """Settings whose files store is a folder of its own (not under the data dir)."""
    return make_settings(sandbox, tmp_path, storage=str(tmp_path / "shared-store"))


@pytest.fixture
def files(settings: Settings) -> FilesStore:
    """The files store of ``settings``."""
    return files_store(settings)


def published_md5(sandbox: Any, export: ZenodoDataExport) -> dict[str, str]:
    """Return the md5 of each file of the export's published record, as the sandbox has it."""
    import httpx

    response = httpx.get(
        f"{sandbox.api_url}deposit/depositions/{export.record_id}/files",
        params={"access_token": sandbox.token},
    )
    response.raise_for_status()
    return {item["filename"]: item["checksum"] for item in response.json()}


def md5(data: bytes) -> str:
    """Return the md5 hex digest of ``data``."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_a_file_changed_after_queueing_is_published_as_queued(
    sqlite_store: Store, settings: Settings, files: FilesStore, make_file: Write, sandbox: Any
) -> None:
    """The export holds the content it was queued with, whatever happens to the file later."""
    path = make_file("stats.csv", "v=1\n")
    export_id = create_and_queue(sqlite_store, staging=files, **seed_attributes([path]))
    path.write_text("v=2, rewritten after the export was queued\n")
    run_burst(sqlite_store, settings)
    export = read_export(sqlite_store, export_id)
    assert export.state == "done", export.last_error
    assert published_md5(sandbox, export) == {"stats.csv": md5(b"v=1\n")}


def test_identical_content_is_stored_once(
    sqlite_store: Store, files: FilesStore, make_file: Write
) -> None:
    """Two files of the same bytes, under two names and two exports, are one object."""
    first = make_file("a.csv", "same bytes\n")
    second = make_file("b.csv", "same bytes\n")
    create_and_queue(sqlite_store, staging=files, **seed_attributes([first]))
    create_and_queue(sqlite_store, staging=files, **seed_attributes([second], name="other"))
    assert len(files.listing("blobs")) == 1
    assert files.listing("tmp") == {}


def test_a_bad_field_stages_nothing(
    sqlite_store: Store, files: FilesStore, make_file: Write
) -> None:
    """Validation comes first: an export refused for its title copies no file."""
    path = make_file("a.csv", size=5000)
    with pytest.raises(InvalidExport, match="title"):
        create_and_queue(sqlite_store, staging=files, **seed_attributes([path], title=" "))
    assert files.listing("") == {}


def test_the_export_keeps_md5_and_where_its_files_are(
    sqlite_store: Store, files: FilesStore, make_file: Write
) -> None:
    """The staged entry carries the md5 computed on the way; the worker need not hash again."""
    path = make_file("a.csv", "abc\n")
    export_id = create_and_queue(sqlite_store, staging=files, **seed_attributes([path]))
    export = read_export(sqlite_store, export_id)
    [entry] = export.data["staged"]
    assert entry["md5"] == md5(b"abc\n") and entry["size"] == 4
    assert entry["source"] == str(path) and files.exists(entry["key"])
    assert "host" not in export.data


def test_a_staged_file_missing_from_the_store_fails_naming_it(
    sqlite_store: Store, settings: Settings, files: FilesStore, make_file: Write
) -> None:
    """A file gone from the store is a permanent error naming the file and the store."""
    path = make_file("gone.csv", "x\n")
    export_id = create_and_queue(sqlite_store, staging=files, **seed_attributes([path]))
    files.delete(read_export(sqlite_store, export_id).data["staged"][0]["key"])
    run_burst(sqlite_store, settings)
    export = read_export(sqlite_store, export_id)
    assert export.state == "failed"
    assert export.attempts == 1, "a missing file is not retried"
    [message] = alert_messages(sqlite_store, export_id)
    assert message == (f"gone.csv (from {path}) is missing from the files store {files.shown}")


def test_in_place_exports_go_to_their_hosts_queue(
    sqlite_store: Store, settings: Settings, make_file: Write, sandbox: Any
) -> None:
    """Files read in place are uploaded only by a worker of the machine that has them."""
    path = make_file("local.csv", "here\n")
    export_id = create_and_queue(sqlite_store, **seed_attributes([path]))
    export = read_export(sqlite_store, export_id)
    assert export.data["host"] == socket.gethostname()
    elsewhere = queue.claim(
        sqlite_store,
        worker_id="another-machine",
        lease_seconds=30,
        max_attempts=3,
        queues=("default", "host:another-machine"),
    )
    assert elsewhere is None, "a worker of another machine took an in-place export"
    run_burst(sqlite_store, settings)
    assert read_export(sqlite_store, export_id).state == "done"


def test_the_seed_call_with_staged_files(
    sqlite_store: Store, settings: Settings, files: FilesStore, make_file: Write
) -> None:
    """``ZenodoDataExport.create`` takes what ``stage_files`` returned, as the README shows."""
    from zenodo_export import DataExportJob

    staged = stage_files(files, [make_file("seed.csv", "1,2\n")])
    with sqlite_store.transaction() as session:
        export = ZenodoDataExport.create(session, **{**seed_attributes([]), "files": staged})
        DataExportJob.perform_later(session, id=export.id)
        export_id = export.id
    run_burst(sqlite_store, settings)
    assert read_export(sqlite_store, export_id).state == "done"


def test_retention_removes_files_nobody_needs(
    sqlite_store: Store, settings: Settings, files: FilesStore, make_file: Write
) -> None:
    """Past the retention, a done export's files go, except those a queued export shares."""
    shared = make_file("shared.csv", "shared\n")
    own = make_file("own.csv", "own\n")
    done_id = create_and_queue(sqlite_store, staging=files, **seed_attributes([shared, own]))
    run_burst(sqlite_store, settings)
    assert read_export(sqlite_store, done_id).state == "done"
    waiting_id = create_and_queue(
        sqlite_store, staging=files, **seed_attributes([shared], name="queued")
    )
    orphan = files.write([b"staged by a command that died"]).key
    assert len(files.listing("blobs")) == 3

    soon = sweep_store(sqlite_store, files, retention_days=30)
    assert soon.bytes_freed == 0 and len(files.listing("blobs")) == 3

    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    report = sweep_store(sqlite_store, files, retention_days=30, now=later)
    assert (report.exports, report.files, report.orphans) == (1, 1, 1)
    assert report.bytes_freed == len(b"own\n") + len(b"staged by a command that died")
    keys = files.listing("blobs")
    waiting = read_export(sqlite_store, waiting_id).data["staged"][0]["key"]
    assert list(keys) == [waiting] and orphan not in keys
    assert read_export(sqlite_store, done_id).data["staged_removed_at"]
    again = sweep_store(sqlite_store, files, retention_days=30, now=later)
    assert again.bytes_freed == 0, "a second sweep finds nothing more"


def test_storage_du_and_sweep_commands(
    settings: Settings, files: FilesStore, make_file: Write, tmp_path: Path, sandbox: Any
) -> None:
    """``storage du`` counts what the store holds; ``storage sweep --dry-run`` removes nothing."""
    import json
    import subprocess

    from tests.fixtures.cli import CLI, sandbox_environment

    env = sandbox_environment(sandbox, tmp_path, ZENODO_EXPORT_STORAGE=str(settings.storage))
    path = make_file("du.csv", size=3000)
    created = subprocess.run(
        [*CLI, "export", str(path), "--name", "n", "--title", "T", "--description", "D",
         "--keyword", "k", "--creator", "Doe, Jane", "--code-repository-url", "https://x.org"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    du = subprocess.run(
        [*CLI, "storage", "du", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert du.returncode == 0, du.stderr
    usage = json.loads(du.stdout)
    assert usage["areas"]["blobs"] == {"files": 1, "bytes": 3000}
    assert usage["held_by_unfinished"] == 1 and usage["removable_now"] == 0
    swept = subprocess.run(
        [*CLI, "storage", "sweep", "--dry-run"], env=env, capture_output=True, text=True, timeout=60
    )
    assert swept.returncode == 0, swept.stderr
    assert "would free 0.0 MB" in swept.stdout
    assert len(files.listing("blobs")) == 1


def test_check_writes_reads_and_removes_a_probe(settings: Settings, files: FilesStore) -> None:
    """``check`` proves the store takes a write; it leaves nothing behind."""
    from zenodo_export.checks import check_files_store

    result = check_files_store(settings)
    assert (result.status, result.detail) == ("ok", f"{files.shown} (written, read, removed)")
    assert files.listing("") == {}
    broken = check_files_store(settings.model_copy(update={"storage": "nosuch://x"}))
    assert broken.status == "fail" and "unknown scheme nosuch://" in broken.detail


def test_a_secret_in_the_storage_url_stops_every_command() -> None:
    """Credentials in ZENODO_EXPORT_STORAGE are refused at start, and never echoed."""
    from zenodo_export.errors import ConfigError
    from zenodo_export.settings import load_settings

    with pytest.raises(ConfigError, match="ZENODO_EXPORT_STORAGE: a URL with user") as caught:
        load_settings(storage="s3://AKIAEXAMPLE:wJalrXUtn@bucket/prefix")
    assert "wJalrXUtn" not in str(caught.value)


def test_content_staged_again_survives_a_sweep_of_its_old_holder(
    sqlite_store: Store, settings: Settings, files: FilesStore, make_file: Write
) -> None:
    """The sweep deletes only keys written before the retention: fresh content stays.

    A command may stage content identical to an expired export's while a sweep runs (after
    the sweep read the exports, before it deletes); staging refreshes the key's time, so the
    key stays for the new export.
    """
    import os

    from sqlalchemy import update

    from zenodo_export.store import DataExport

    path = make_file("again.csv", "same\n")
    old_id = create_and_queue(sqlite_store, staging=files, **seed_attributes([path]))
    run_burst(sqlite_store, settings)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    with sqlite_store.transaction() as session:
        session.execute(
            update(DataExport).where(DataExport.id == old_id).values(finished_exporting_at=long_ago)
        )
    [key] = files.listing("blobs")
    os.utime(files.path(key), (long_ago.timestamp(), long_ago.timestamp()))
    stage_files(files, [path])  # staged again, not yet queued: no export holds it yet

    report = sweep_store(sqlite_store, files, retention_days=30)
    assert report.exports == 1 and report.files == 0 and report.bytes_freed == 0
    assert files.exists(key), "the content staged again was removed"


def test_a_worker_that_cannot_use_the_files_store_does_not_start(
    settings: Settings, tmp_path: Path, sandbox: Any
) -> None:
    """A worker whose store is unusable stops at start, in one line: no job fails for it."""
    import subprocess

    from tests.fixtures.cli import CLI, sandbox_environment

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = sandbox_environment(sandbox, tmp_path, ZENODO_EXPORT_STORAGE=str(blocker / "store"))
    done = subprocess.run(
        [*CLI, "worker", "--burst"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "ZENODO_EXPORT_STORAGE" in line and "Traceback" not in done.stderr

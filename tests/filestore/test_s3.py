"""Exports staged in S3 (moto's real server on loopback), published by real worker processes.

* identical content staged twice is stored once, and both exports publish it with its md5;
* a worker SIGKILLed while streaming a staged file from S3 to Zenodo: the next worker
  publishes the export once, with the right md5, and nothing is staged again;
* an ``export`` process SIGKILLed while staging queues nothing; run again, it queues once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.filestore.conftest import (
    EXPORT_ARGS,
    S3,
    big_file,
    export,
    holds_open,
    listed,
    md5_hex,
    process_env,
    run,
    sha256_hex,
    shown,
    wait_for,
)
from tests.fixtures.cli import CLI
from tests.pipeline.conftest import all_depositions
from zenodo_export.clock import utcnow
from zenodo_export.exports.retention import sweep_store
from zenodo_export.filestore import blob_key, files_store
from zenodo_export.settings import Settings
from zenodo_export.store import Store

pytest.importorskip("moto.server", reason="moto[server] is not installed")
pytest.importorskip("s3fs", reason="s3fs is not installed")

StartWorker = Callable[..., "subprocess.Popen[bytes]"]


def published_files(sandbox: Any) -> list[dict[str, Any]]:
    """The files of every published deposition on the sandbox (checksum ``md5:...``)."""
    return [
        file for deposition in all_depositions(sandbox) if deposition["submitted"]
        for file in deposition["files"]
    ]  # fmt: skip


def hits(sandbox: Any, rule_id: int) -> int:
    """How many requests the sandbox's fault rule ``rule_id`` has hit."""
    rules = sandbox.admin("GET", "faults")["faults"]
    return sum(int(rule["hits"]) for rule in rules if rule["id"] == rule_id)


def test_identical_content_is_staged_once_and_published_from_s3(
    s3: S3, sandbox: Any, tmp_path: Path
) -> None:
    """Two exports of the same bytes share one key; a worker publishes both, md5 intact."""
    env = process_env(sandbox, tmp_path, s3.url("store"), **s3.env)
    first = big_file(tmp_path / "files" / "report.zip", 2, seed=1)
    second = tmp_path / "files" / "copy" / "report-again.zip"
    second.parent.mkdir()
    second.write_bytes(first.read_bytes())

    ids = [export(env, first), export(env, second)]

    key, size, md5 = blob_key(sha256_hex(first)), first.stat().st_size, md5_hex(first)
    assert s3.keys("store/") == {f"store/{key}": size}
    first.unlink()  # the worker reads the store, never the files staged
    second.unlink()
    done = run(env, "worker", "--burst")
    assert done.returncode == 0, done.stderr
    for export_id, name in zip(ids, ("report.zip", "report-again.zip"), strict=True):
        view = shown(env, export_id)
        assert view["state"] == "done", view["last_error"]
        assert view["files"] == {name: {"size": size, "md5": md5}}
    checksums = sorted((file["key"], file["checksum"]) for file in published_files(sandbox))
    assert checksums == [("report-again.zip", f"md5:{md5}"), ("report.zip", f"md5:{md5}")]
    assert s3.keys("store/") == {f"store/{key}": size}


def test_worker_killed_while_streaming_from_s3_publishes_once(
    s3: S3, sandbox: Any, tmp_path: Path, start_worker: StartWorker
) -> None:
    """SIGKILL mid-upload of a staged file: the next worker publishes it once, md5 intact."""
    env = process_env(sandbox, tmp_path, s3.url("store"), **s3.env)
    data = big_file(tmp_path / "files" / "big.bin", 24, seed=2)
    small = big_file(tmp_path / "files" / "small.bin", 1, seed=3)
    export_id = export(env, data, small)
    staged = s3.keys("store/")
    assert sorted(staged) == sorted(f"store/{blob_key(sha256_hex(path))}" for path in (data, small))
    expected = {path.name: (path.stat().st_size, md5_hex(path)) for path in (data, small)}
    data.unlink()  # the worker reads the store, never the files staged
    small.unlink()
    rule = sandbox.add_fault(
        {"method": "PUT", "path": r"^/api/files/.*/big\.bin$", "action": "latency", "seconds": 30}
    )

    worker = start_worker(env)
    wait_for(lambda: hits(sandbox, rule["id"]) > 0, "the upload of big.bin to begin")
    time.sleep(0.3)  # the worker streams the S3 object into the held request
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    killed = shown(env, export_id)
    assert killed["state"] == "processing" and "big.bin" not in killed["files"]

    time.sleep(2.5)  # the killed worker's lease (2 s) expires
    done = run(env, "worker", "--burst")
    assert done.returncode == 0, done.stderr
    view = shown(env, export_id)
    assert view["state"] == "done", view["last_error"]
    assert view["files"] == {
        name: {"size": size, "md5": md5} for name, (size, md5) in expected.items()
    }
    [deposition] = all_depositions(sandbox)
    assert deposition["submitted"] and deposition["id"] == killed["deposition_id"]
    assert {f["key"]: (f["size"], f["checksum"]) for f in deposition["files"]} == {
        name: (size, f"md5:{md5}") for name, (size, md5) in expected.items()
    }
    assert s3.keys("store/") == staged  # nothing staged again, nothing left in tmp/


@pytest.mark.parametrize("moment", ["reading", "uploading"])
def test_export_killed_while_staging_queues_nothing(
    moment: str, s3: S3, sandbox: Any, tmp_path: Path
) -> None:
    """SIGKILL of ``export`` mid-staging: nothing queued; run again, it is staged and queued once.

    ``reading``: killed as soon as it opened the file. ``uploading``: killed once its
    multipart upload into ``tmp/`` holds a part (s3fs writes 5 MiB parts here); that upload
    is then listed and swept like any interrupted write.
    """
    env = process_env(
        sandbox, tmp_path, s3.url("store"), **s3.env, FSSPEC_S3='{"default_block_size": 5242880}'
    )
    data = big_file(tmp_path / "files" / "big.bin", 30, seed=4)
    with (tmp_path / "export.log").open("wb") as log:
        process = subprocess.Popen(
            [*CLI, "export", str(data), *EXPORT_ARGS], env=env, stdout=log, stderr=log
        )
    try:
        if moment == "reading":
            wait_for(lambda: holds_open(process.pid, data), "the export to open the file")
        else:
            wait_for(lambda: s3.parts_in_progress("store/tmp/") > 0, "a part uploaded")
        assert process.poll() is None, (tmp_path / "export.log").read_text()
        assert holds_open(process.pid, data)  # still staging: nothing can be queued yet
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert listed(env) == []
    key = f"store/{blob_key(sha256_hex(data))}"
    assert key not in s3.keys("store/")

    export_id = export(env, data)
    [view] = listed(env)
    assert (view["id"], view["state"]) == (export_id, "pending")
    blobs = {k: size for k, size in s3.keys("store/").items() if not k.startswith("store/tmp/")}
    assert blobs == {key: data.stat().st_size}
    assert hashlib.md5(s3.body(key), usedforsecurity=False).hexdigest() == md5_hex(data)
    if moment == "uploading":
        swept_once_stale(s3, env, tmp_path, blobs)


def swept_once_stale(s3: S3, env: dict[str, str], tmp_path: Path, blobs: dict[str, int]) -> None:
    """The killed process's multipart upload into ``tmp/`` is listed (no object shows it) and
    the sweep of interrupted writes aborts it once old enough; the staged file stays."""
    [interrupted] = s3.uploads_in_progress("store/tmp/")
    files = files_store(Settings(storage=s3.url("store"), data_dir=tmp_path / "data"))
    size, began = files.aged_listing("tmp")[interrupted.removeprefix("store/")]
    assert size >= 5 * 1024 * 1024 and began is not None
    store = Store.open(env["DATABASE_URL"])
    try:
        later = utcnow() + dt.timedelta(days=2)
        report = sweep_store(store, files, retention_days=30, now=later)
    finally:
        store.dispose()
    assert (report.temporary, report.files, report.orphans) == (1, 0, 0)
    assert report.bytes_freed == size
    assert s3.uploads_in_progress("store/") == []
    assert s3.keys("store/") == blobs


def same_folder_content(key: str) -> bytes:
    """Content whose blob key falls in the same folder (``blobs/<aa>/``) as ``key``."""
    folder = key.split("/")[1]
    for counter in range(100_000):
        content = f"same folder {counter}".encode()
        if hashlib.sha256(content).hexdigest().startswith(folder):
            return content
    raise AssertionError(f"no content found for folder {folder}")


def test_a_long_lived_store_sees_what_other_processes_stage_and_remove(
    s3: S3, sandbox: Any, tmp_path: Path
) -> None:
    """A store open in a long-running process (a worker, the web API) never answers from a
    listing it saw: a file another process staged since is there, one it removed is gone."""
    env = process_env(sandbox, tmp_path, s3.url("store"), **s3.env)
    store = files_store(Settings(storage=s3.url("store"), data_dir=tmp_path / "data"))
    first = big_file(tmp_path / "files" / "first.bin", 1, seed=5)
    export(env, first)
    key = blob_key(sha256_hex(first))
    assert store.listing("blobs") == {key: first.stat().st_size}  # what a sweep lists

    second = tmp_path / "files" / "second.bin"
    second.write_bytes(same_folder_content(key))
    export(env, second)  # another process stages into the folder listed above
    assert store.exists(blob_key(sha256_hex(second)))

    s3.client().delete_object(Bucket=s3.bucket, Key=f"store/{key}")  # another process's sweep
    assert not store.exists(key)
    written = store.write([first.read_bytes()])  # staged again: stored again
    assert written.key == key and s3.body(f"store/{key}") == first.read_bytes()

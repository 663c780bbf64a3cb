"""A files store that cannot take a file: one line of error, a non-zero exit, nothing queued.

Each case first queues a good export (staged in a store that works), then runs ``export``
(a real CLI process) against a store that is unusable: an unknown scheme, a bucket that does
not exist, no credentials, credentials in the URL, a local folder that refuses writes, a full
local disk. The command fails with one ``error:`` line (no traceback), queues nothing, and
the export already stored, its row and its staged file, stay as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.filestore.conftest import (
    EXPORT_ARGS,
    S3,
    big_file,
    free_port,
    listed,
    md5_hex,
    no_aws_settings,
    process_env,
    run,
    sha256_hex,
    shown,
)
from tests.fixtures.environment import clean_environment
from tests.localio.conftest import SmallDisk
from tests.pipeline.conftest import all_depositions
from zenodo_export.filestore import blob_key

CONFIG_EXIT, TRANSIENT_EXIT = 3, 7
"""Exit codes of ``ConfigError`` and of ``StorageUnavailable`` (a ``Transient``)."""


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """Check that a command failed with one line of error and no traceback; return the line."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert done.stdout.strip() == "", done.stdout
    return lines[0]


def stored_before(env: dict[str, str], tmp_path: Path) -> tuple[list[dict[str, Any]], Path]:
    """Queue the good export of the case; return the exports listed and its file."""
    kept = big_file(tmp_path / "files" / "kept.zip", 1, seed=10)
    done = run(env, "export", str(kept), *EXPORT_ARGS, "--json")
    assert done.returncode == 0, done.stderr
    view = json.loads(done.stdout)
    assert view["state"] == "pending"
    return [view], kept


def new_file(tmp_path: Path, megabytes: int = 1) -> Path:
    """A file whose content no store holds yet."""
    return big_file(tmp_path / "files" / "new.zip", megabytes, seed=11)


def attempt(env: dict[str, str], path: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``export`` of ``path`` to its end."""
    return run(env, "export", str(path), *EXPORT_ARGS, **kwargs)


def local_keys(root: Path) -> dict[str, bytes]:
    """Every file of a local store with its sha256 (binary)."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).digest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


# -- settings that name no usable store --------------------------------------------------


@dataclass
class Kept:
    """An export queued before the refused attempts, in a database and store they share."""

    env: dict[str, str]
    before: list[dict[str, Any]]
    store: Path
    files: dict[str, bytes]
    root: Path


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Kept:
    """One good export for every refused setting below (none of them contacts Zenodo)."""
    root = tmp_path_factory.mktemp("refused")
    env = clean_environment(
        DATABASE_URL=f"sqlite:///{root / 'cli.db'}",
        ZENODO_EXPORT_DATA_DIR=str(root / "data"),
        ZENODO_URL="http://127.0.0.1:9/api/",
        ZENODO_TOKEN="never-used",
        AWS_EC2_METADATA_DISABLED="true",
    )
    before, _ = stored_before(env, root)
    (root / "a-file").write_text("not a folder")
    store = root / "data" / "store"
    return Kept(env, before, store, local_keys(store), root)


@pytest.mark.parametrize(
    "storage,code,expected",
    [
        ("foo://x", CONFIG_EXIT, "unknown scheme foo://"),
        ("s3://AKIAEXAMPLEKEY:hunter2secret@bucket/x", CONFIG_EXIT, "credentials come from"),
        ("s3://bucket/x?secret=hunter2secret", CONFIG_EXIT, "a query or a fragment is refused"),
        ("memory://store", CONFIG_EXIT, "one process's memory"),
        ("http://127.0.0.1:{port}/store", CONFIG_EXIT, "cannot store files"),
        ("zip://store", CONFIG_EXIT, "cannot store files"),
        ("s3:///store", CONFIG_EXIT, "names no bucket"),
        ("{root}/a-file/store", CONFIG_EXIT, "is not a folder"),
        ("ftp://127.0.0.1:{port}/store", TRANSIENT_EXIT, "cannot be reached"),
    ],
    ids=[
        "unknown-scheme",
        "credentials-in-url",
        "secret-in-query",
        "process-memory",
        "read-only-http",
        "archive",
        "no-bucket-named",
        "under-a-file",
        "unreachable-ftp",
    ],
)
def test_a_store_setting_refused_queues_nothing(
    storage: str, code: int, expected: str, kept: Kept
) -> None:
    """The store is refused before anything is queued; a secret in it is never shown."""
    storage = storage.format(root=kept.root, port=free_port())  # nothing listens on that port

    done = attempt({**kept.env, "ZENODO_EXPORT_STORAGE": storage}, new_file(kept.root))

    line = refused(done)
    assert done.returncode == code, line
    assert expected in line and ("ZENODO_EXPORT_STORAGE" in line or "files store" in line), line
    assert "hunter2secret" not in line and "AKIAEXAMPLEKEY" not in line, line
    assert listed(kept.env) == kept.before
    assert local_keys(kept.store) == kept.files


# -- S3 stores that cannot be used --------------------------------------------------------


def test_a_bucket_that_does_not_exist(s3: S3, sandbox: Any, tmp_path: Path) -> None:
    """No such bucket: a configuration error naming the store; the bucket that is, untouched."""
    env = process_env(sandbox, tmp_path, s3.url("store"), **s3.env)
    before, _ = stored_before(env, tmp_path)
    objects = s3.keys()
    missing = f"s3://{s3.bucket}-missing/store"

    done = attempt({**env, "ZENODO_EXPORT_STORAGE": missing}, new_file(tmp_path))

    line = refused(done)
    assert done.returncode == CONFIG_EXIT, line
    assert "ZENODO_EXPORT_STORAGE" in line and missing in line, line
    assert listed(env) == before
    assert s3.keys() == objects


def test_no_credentials(
    s3: S3, sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credentials anywhere botocore looks: a configuration error, nothing queued."""
    env = process_env(sandbox, tmp_path, s3.url("store"), **s3.env)
    before, _ = stored_before(env, tmp_path)
    objects = s3.keys()
    no_aws_settings(monkeypatch, tmp_path / "no-aws")
    bare = process_env(
        sandbox,
        tmp_path,
        s3.url("store"),
        AWS_ENDPOINT_URL=s3.endpoint,
        AWS_DEFAULT_REGION="us-east-1",
    )
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"} & set(bare)

    done = attempt(bare, new_file(tmp_path), timeout=60)

    line = refused(done)
    assert done.returncode == CONFIG_EXIT, line
    assert "ZENODO_EXPORT_STORAGE" in line and "credentials" in line, line
    assert listed(env) == before
    assert s3.keys() == objects


# -- local stores that refuse the write ---------------------------------------------------


def test_a_store_folder_that_refuses_writes(
    sandbox: Any, tmp_path: Path, obeys_permissions: Callable[[], None] | None
) -> None:
    """Every folder of the store ``chmod 0500``: refused, named, nothing queued or left."""
    store = tmp_path / "store"
    env = process_env(sandbox, tmp_path, str(store))
    before, _ = stored_before(env, tmp_path)
    files = local_keys(store)
    folders = [store, *(path for path in store.rglob("*") if path.is_dir())]
    for folder in folders:
        folder.chmod(0o500)
    try:
        done = attempt(env, new_file(tmp_path), preexec_fn=obeys_permissions)
    finally:
        for folder in folders:
            folder.chmod(0o700)

    line = refused(done)
    assert done.returncode == TRANSIENT_EXIT, line
    assert str(store) in line and "permission denied" in line, line
    assert listed(env) == before
    assert local_keys(store) == files


def test_a_store_on_a_full_disk(
    sandbox: Any, tmp_path: Path, small_disk: Callable[..., SmallDisk]
) -> None:
    """The store's disk fills up: refused, named, no partial file; the export stored before
    is still published, md5 intact."""
    disk = small_disk("2m")
    env = process_env(sandbox, tmp_path, str(disk.path / "store"))
    before, kept = stored_before(env, tmp_path)
    files = local_keys(disk.path / "store")
    assert list(files) == [blob_key(sha256_hex(kept))]

    done = attempt(env, new_file(tmp_path, megabytes=3))

    line = refused(done)
    assert done.returncode == TRANSIENT_EXIT, line
    assert str(disk.path / "store") in line and "no space left" in line, line
    assert listed(env) == before
    assert local_keys(disk.path / "store") == files  # no partial file under tmp/
    assert os.statvfs(disk.path).f_bfree > 0

    worked = run(env, "worker", "--burst")
    assert worked.returncode == 0, worked.stderr
    view = shown(env, before[0]["id"])
    assert view["state"] == "done", view["last_error"]
    assert view["files"] == {"kept.zip": {"size": kept.stat().st_size, "md5": md5_hex(kept)}}
    [deposition] = all_depositions(sandbox)
    assert [f["checksum"] for f in deposition["files"]] == [f"md5:{md5_hex(kept)}"]

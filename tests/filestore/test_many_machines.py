"""Three machines played on one: a creating process and two workers that share no local path.

Each "machine" has its own HOME and data dir; they share only what a real deployment shares:
the database, the sandbox (Zenodo) and the files store, which only the
``ZENODO_EXPORT_STORAGE`` setting names: a folder (a shared mount), or an S3 bucket (moto's
server on loopback stands in for S3). The creating machine queues 20 exports, one report
and one snapshot; the workers, started afterwards, take turns so that the snapshot's chunks
land on both. Everything is published once, each file with the md5 of what was queued.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.filestore.conftest import S3
from tests.fixtures.cli import CLI, sandbox_environment
from tests.reports.conftest import create_works, report_config, write_config
from tests.snapshots.api_server import ApiServer
from zenodo_export.store import Store, list_exports

EXPORTS = 20

pytestmark = pytest.mark.slow


@pytest.fixture
def api() -> Iterator[ApiServer]:
    """The paginated API the snapshot crawls: 6 pages, slow enough to share between workers."""
    with ApiServer() as server:
        server.state.pages, server.state.latency = 6, 0.3
        yield server


def machine(
    sandbox: Any, tmp_path: Path, name: str, database_url: str, storage: str, **extra: str
) -> dict[str, str]:
    """Return the environment of one machine: its own HOME and data dir, the shared rest."""
    home = tmp_path / name
    home.mkdir()
    return sandbox_environment(
        sandbox,
        tmp_path,
        HOME=str(home),
        DATABASE_URL=database_url,
        ZENODO_EXPORT_DATA_DIR=str(home / "data"),
        ZENODO_EXPORT_STORAGE=storage,
        ZENODO_EXPORT_LEASE_SECONDS="10",
        CREATOR="Doe, Jane",
        GITHUB_URL="https://github.com/example/tool",
        SITENAMELONG="Example",
        **extra,
    )


def run(env: dict[str, str], *args: str, cwd: Path) -> str:
    """Run one CLI command on a machine; return its stdout, checking it succeeded."""
    done = subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """Start a worker on a machine, logging to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [*CLI, "worker", "--concurrency", "2", *args],
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Poll ``condition`` until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def md5(path: Path) -> str:
    """Return a file's md5."""
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def published(sandbox: Any) -> dict[int, dict[str, str]]:
    """Return every published deposition of the sandbox: id -> {file name: md5}."""
    body = httpx.get(f"{sandbox.base_url}/_sandbox/depositions").raise_for_status().json()
    found = body["depositions"] if isinstance(body, dict) else body
    return {
        int(item["id"]): {f["key"]: f["checksum"].removeprefix("md5:") for f in item["files"]}
        for item in found
        if item.get("submitted")
    }


def test_three_machines_share_only_the_database_and_a_folder(
    sqlite_url: str, sandbox: Any, api: ApiServer, tmp_path: Path
) -> None:
    """20 exports, a report and a snapshot created on A are published by B and C, each once.

    (SQLite stands in for the shared database here; the S3 case below uses PostgreSQL.)
    """
    three_machines(sqlite_url, str(tmp_path / "shared-store"), sandbox, api, tmp_path)


def test_three_machines_share_postgresql_and_s3(
    postgres_url: str, s3: S3, sandbox: Any, api: ApiServer, tmp_path: Path
) -> None:
    """The same flow with the store on S3 (moto's server on loopback stands in for it)."""
    three_machines(postgres_url, s3.url("shared"), sandbox, api, tmp_path, **s3.env)
    assert s3.keys("shared/snapshots/") == {}, "the snapshot's parts were removed once done"
    assert s3.keys("shared/blobs/"), "the staged files are in the bucket"


def three_machines(
    database_url: str, storage: str, sandbox: Any, api: ApiServer, tmp_path: Path, **env: str
) -> None:
    """Play the three machines with ``storage`` as the files store; check every record."""
    creator = machine(sandbox, tmp_path, "a", database_url, storage, **env)
    first = machine(sandbox, tmp_path, "b", database_url, storage, **env)
    second = machine(sandbox, tmp_path, "c", database_url, storage, **env)
    a = tmp_path / "a"

    sources = []
    for number in range(EXPORTS):
        path = a / "files" / f"part-{number}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"export {number}\n".encode() * (number + 1) * 100)
        sources.append(path)
        run(creator, "export", str(path), "--name", f"data-{number}", "--title", f"Data {number}",
            "--description", "Files of machine A.", "--keyword", "test", cwd=a)  # fmt: skip
    works = f"sqlite:///{a / 'works.db'}"
    create_works(works)
    config = write_config(a, report_config(works))
    run({**creator, "ZENODO_EXPORT_CONFIG": str(config)}, "report", "stats", cwd=a)
    snapshot = json.loads(
        run(
            creator,
            "snapshot",
            api.url("meta"),
            "--pages-per-job",
            "2",
            "--upload",
            "--json",
            cwd=a,
        )
    )["id"]

    queued = {path: md5(path) for path in sources}
    for path in sources:  # the originals leave machine A: only the store has them now
        path.unlink()
    log_b, log_c = tmp_path / "b" / "worker.log", tmp_path / "c" / "worker.log"
    worker_b = start(first, log_b)
    wait_for(lambda: re.search(r"page\(s\) done, part", log_b.read_text()) is not None)
    worker_b.send_signal(signal.SIGTERM)
    assert worker_b.wait(timeout=60) == 0
    start(second, log_c, "--burst").wait(timeout=300)
    start(first, log_b, "--burst").wait(timeout=300)

    store = Store.open(database_url)
    try:
        with store.transaction() as session:
            exports = list_exports(session, limit=1000)
            states = {e.id: (e.name, e.state, e.record_id, e.last_error) for e in exports}
    finally:
        store.dispose()
    assert all(state == "done" for _, state, _, _ in states.values()), states
    assert len(states) == EXPORTS + 3  # the report's export, the snapshot and its upload
    claims = re.compile(r"claimed snapshot job")
    assert claims.search(log_b.read_text()) and claims.search(log_c.read_text()), (
        "the snapshot's chunks did not land on both workers"
    )
    records = published(sandbox)
    assert len(records) == EXPORTS + 2, "each export published exactly once"
    expected = {(path.name, digest) for path, digest in queued.items()}
    got = {(name, digest) for files in records.values() for name, digest in files.items()}
    assert expected <= got, "a file was published with other bytes than were queued"
    assert snapshot in states

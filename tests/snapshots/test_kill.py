"""Killed workers: a snapshot survives SIGKILL mid-chunk and between chunks, no page lost."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.cli import clean_environment
from tests.snapshots.api_server import ApiServer
from tests.snapshots.conftest import dump_pages, read_export, snapshot_settings
from zenodo_export.settings import Settings
from zenodo_export.snapshots import SnapshotRequest, create_snapshot
from zenodo_export.store import Store

LEASE = 1.0


@pytest.fixture
def worker_env(tmp_path: Path) -> dict[str, str]:
    """Environment of worker processes sharing the test's SQLite file and data dir."""
    return clean_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'kill.db'}",
        ZENODO_EXPORT_DATA_DIR=str(tmp_path / "data"),
        ZENODO_TOKEN="unused-by-snapshots",
        ZENODO_URL="http://127.0.0.1:9/api/",
        ZENODO_EXPORT_LEASE_SECONDS=str(LEASE),
        ZENODO_EXPORT_POLL_INTERVAL="0.05",
        ZENODO_EXPORT_RETRY_DELAY_SCALE="0",
    )


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, step: float = 0.005) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(step)


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker: no clean-up of any kind runs."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def pages_done(store: Store, snapshot_id: int) -> int:
    """Return the pages the stored cursor counts as written."""
    return int(read_export(store, snapshot_id).data["cursor"]["pages_done"])


@pytest.mark.parametrize("style,concurrency", [("meta", 2), ("linked", 1)])
def test_killed_mid_chunk_and_between_chunks(
    style: str,
    concurrency: int,
    api: ApiServer,
    tmp_path: Path,
    worker_env: dict[str, str],
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    """SIGKILL during a chunk and right after one: the dump still has every page once, in order."""
    api.state.pages, api.state.latency = 12, 0.15
    settings: Settings = snapshot_settings(tmp_path)
    store = Store.open(worker_env["DATABASE_URL"])
    try:
        snapshot_id = create_snapshot(
            store,
            settings,
            SnapshotRequest(url=api.url(style), pages_per_job=3, concurrency=concurrency),
        )
        # Parts move into the files store (under the data dir by default) once written.
        parts = (
            Path(worker_env["ZENODO_EXPORT_DATA_DIR"]) / "store" / "snapshots" / str(snapshot_id)
        )

        first = start_worker(worker_env)
        wait_for(lambda: api.state.hits[(style, 5)] >= 1)  # chunk 2 (pages 4-6) in flight
        kill(first)
        assert pages_done(store, snapshot_id) == 3

        time.sleep(LEASE + 0.2)  # the killed worker's lease runs out
        second = start_worker(worker_env)
        wait_for(lambda: (parts / "part-00000004.jsonl").exists())  # chunk 2 just written
        kill(second)

        time.sleep(LEASE + 0.2)
        start_worker(worker_env, "--burst").wait(timeout=60)
        snapshot = read_export(store, snapshot_id)
    finally:
        store.dispose()
    assert snapshot.state == "done", snapshot.last_error
    assert dump_pages(snapshot) == api.expected(style)
    assert api.state.hits[(style, 4)] >= 2, "the first kill must have interrupted chunk 2"

"""A snapshot folder the worker may not write: the failure is recorded, nothing is left.

The worker is a real ``zenodo-export worker --burst`` process. Root ignores permission bits,
so it runs without the capabilities that let it (see ``obeys_permissions``); the folder is
``chmod 0500``. Once the folder is writable again, ``retry`` finishes the snapshot.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.fixtures.cli import CLI, sandbox_environment
from tests.localio.conftest import temporary_files
from tests.snapshots.api_server import ApiServer
from tests.snapshots.conftest import alert_messages, dump_pages, finished, read_export
from zenodo_export.exports.service import retry_export
from zenodo_export.settings import Settings
from zenodo_export.snapshots import SnapshotRequest, create_snapshot
from zenodo_export.snapshots.options import SnapshotOptions
from zenodo_export.snapshots.pagination import part_name
from zenodo_export.store import Store


def test_a_folder_without_write_permission_fails_the_snapshot_naming_it(
    api: ApiServer,
    sqlite_store: Store,
    sqlite_url: str,
    crawl_settings: Settings,
    obeys_permissions: Callable[[], None] | None,
    sandbox: object,
    tmp_path: Path,
) -> None:
    """Permission denied is retried, then fails the snapshot with an alert naming the path."""
    snapshot_id = create_snapshot(
        sqlite_store, crawl_settings, SnapshotRequest(url=api.url("meta"))
    )
    options = SnapshotOptions.from_data(read_export(sqlite_store, snapshot_id).data)
    folder = Path(options.directory)
    folder.mkdir(parents=True)
    folder.chmod(0o500)
    env = {
        **sandbox_environment(sandbox, tmp_path, ZENODO_EXPORT_MAX_ATTEMPTS="3"),
        "DATABASE_URL": sqlite_url,
        "ZENODO_EXPORT_DATA_DIR": str(crawl_settings.data_dir),
    }
    try:
        done = subprocess.run(
            [*CLI, "worker", "--burst"],
            env=env,
            preexec_fn=obeys_permissions,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        folder.chmod(0o755)
    assert done.returncode == 0, done.stderr
    snapshot = read_export(sqlite_store, snapshot_id)
    assert snapshot.state == "failed", done.stderr
    part = options.parts_dir / part_name(1)
    expected = f"cannot write {part}: permission denied ({options.parts_dir})"
    assert snapshot.last_error == f"LocalIOError: {expected}"
    assert alert_messages(sqlite_store, snapshot_id) == [expected]
    assert list(folder.iterdir()) == []
    assert temporary_files(crawl_settings.data_dir) == []

    retry_export(sqlite_store, snapshot_id)
    snapshot = finished(sqlite_store, crawl_settings, snapshot_id)
    assert snapshot.state == "done", snapshot.last_error
    assert dump_pages(snapshot) == api.expected("meta")

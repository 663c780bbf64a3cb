"""A full disk under a snapshot: the failure is recorded, no temp file stays, progress is kept.

The data dir is a small tmpfs; the store is elsewhere (it can be reached). Real burst workers
run the snapshot's jobs: ``LocalIOError`` is retried, then fails the snapshot with an alert.
Once the disk has room again, ``retry`` resumes from the stored cursor and parts (kept in the
files store, under the data dir by default).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.localio.conftest import SmallDisk, temporary_files
from tests.snapshots.api_server import ApiServer
from tests.snapshots.conftest import alert_messages, dump_pages, finished, snapshot_settings
from zenodo_export.exports.service import retry_export
from zenodo_export.filestore import files_store
from zenodo_export.settings import Settings
from zenodo_export.snapshots import SnapshotRequest, create_snapshot
from zenodo_export.snapshots.options import SnapshotOptions
from zenodo_export.snapshots.pagination import part_name
from zenodo_export.store import DataExport, Store


def stored_parts(settings: Settings, snapshot_id: int) -> list[str]:
    """Return the names of the snapshot's parts in the files store (where every worker reads)."""
    listed = files_store(settings).listing(f"snapshots/{snapshot_id}")
    return sorted(Path(key).name for key in listed)


def resumed(store: Store, disk: SmallDisk, settings: Settings, snapshot_id: int) -> DataExport:
    """Give the disk room again, retry the snapshot, and return it as it ended."""
    disk.resize("1m")
    retry_export(store, snapshot_id)
    return finished(store, settings, snapshot_id)


def test_a_chunk_that_does_not_fit_keeps_the_chunks_before(
    api: ApiServer, store: Store, small_disk: Callable[..., SmallDisk], tmp_path: Path
) -> None:
    """The second part fills the disk: failed, named, no temp file; the first part stays."""
    disk = small_disk("64k")
    settings = snapshot_settings(tmp_path, data_dir=disk.path)
    api.state.pages, api.state.per_page = 12, 50  # two chunks of about 37 KiB each
    snapshot_id = create_snapshot(
        store, settings, SnapshotRequest(url=api.url("meta"), pages_per_job=6)
    )
    snapshot = finished(store, settings, snapshot_id)
    assert snapshot.state == "failed"
    options = SnapshotOptions.from_data(snapshot.data)
    second = options.parts_dir / part_name(7)
    assert f"LocalIOError: cannot write {second}: disk full" == snapshot.last_error
    assert snapshot.attempts == settings.max_attempts
    [alert] = alert_messages(store, snapshot_id)
    assert alert == f"cannot write {second}: disk full"
    assert temporary_files(disk.path) == []
    cursor = snapshot.data["cursor"]
    assert (cursor["pages_done"], cursor["parts"]) == (6, [part_name(1)])
    assert stored_parts(settings, snapshot_id) == [part_name(1)]

    snapshot = resumed(store, disk, settings, snapshot_id)
    assert snapshot.state == "done", snapshot.last_error
    assert dump_pages(snapshot) == api.expected("meta")
    assert [api.state.hits[("meta", page)] for page in range(1, 7)] == [1] * 6


def test_a_zip_that_does_not_fit_is_not_started(
    api: ApiServer, store: Store, small_disk: Callable[..., SmallDisk], tmp_path: Path
) -> None:
    """The parts and the dump fit, the zip would not: refused before writing, parts kept."""
    disk = small_disk("136k")
    settings = snapshot_settings(tmp_path, data_dir=disk.path)
    api.state.pages, api.state.per_page = 8, 50  # about 48 KiB in all
    snapshot_id = create_snapshot(
        store, settings, SnapshotRequest(url=api.url("meta"), pages_per_job=4)
    )
    snapshot = finished(store, settings, snapshot_id)
    assert snapshot.state == "failed"
    options = SnapshotOptions.from_data(snapshot.data)
    zipped = options.dump_path.with_suffix(".zip")
    message = snapshot.last_error or ""
    assert message.startswith(f"LocalIOError: no room in {zipped.parent} for {zipped.name}: ")
    assert message.endswith(" free") and "bytes needed" in message
    assert alert_messages(store, snapshot_id) == [message.removeprefix("LocalIOError: ")]
    assert not zipped.exists() and not options.dump_path.exists(), "the assembly is undone"
    assert temporary_files(disk.path) == []
    cursor = snapshot.data["cursor"]
    assert cursor["crawled"] and cursor["parts"] == [part_name(1), part_name(5)]
    assert stored_parts(settings, snapshot_id) == cursor["parts"]

    snapshot = resumed(store, disk, settings, snapshot_id)
    assert snapshot.state == "done", snapshot.last_error
    assert Path(snapshot.data["files"]["zip"]) == zipped and zipped.is_file()
    assert dump_pages(snapshot) == api.expected("meta")
    assert sorted(api.state.hits.values()) == [1] * 8, "no page was fetched twice"
    assert temporary_files(disk.path) == []

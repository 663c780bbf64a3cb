"""``upload``: the finished zip is archived on the sandbox; later snapshots become new versions."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from tests.pipeline.conftest import make_settings
from tests.snapshots.api_server import ApiServer
from tests.snapshots.conftest import finished, read_export
from zenodo_export.snapshots import SnapshotRequest, create_snapshot
from zenodo_export.store import Store


def test_upload_publishes_the_zip_and_versions_the_endpoint(
    api: ApiServer, sandbox: Any, sqlite_store: Store, tmp_path: Path
) -> None:
    """The zip becomes a published record titled as Lagotto's; a second snapshot, a new version."""
    settings = make_settings(
        sandbox, tmp_path, creator="Lin, Jennifer", github_url="https://github.com/lagotto/lagotto"
    )
    url = api.url("meta")
    first = finished(
        sqlite_store,
        settings,
        create_snapshot(sqlite_store, settings, SnapshotRequest(url=url, upload=True)),
    )
    api.state.pages = 6  # the API grew
    second = finished(
        sqlite_store,
        settings,
        create_snapshot(sqlite_store, settings, SnapshotRequest(url=url, upload=True)),
    )

    records = [read_export(sqlite_store, s.data["upload_export_id"]) for s in (first, second)]
    for snapshot, record in zip((first, second), records, strict=True):
        assert record.state == "done", record.last_error
        assert record.title == f"API Snapshot of {url} on {snapshot.data['date']}"
        assert record.name == "127.0.0.1_api_works"
        zipped = Path(snapshot.data["files"]["zip"])
        assert record.uploads[zipped.name]["md5"] == hashlib.md5(zipped.read_bytes()).hexdigest()
    assert records[0].concept_doi == records[1].concept_doi
    assert records[0].doi != records[1].doi

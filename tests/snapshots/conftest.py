"""Fixtures for snapshot tests: the real paginated API server, settings, and dump readers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.conftest import run_burst
from tests.snapshots.api_server import ApiServer
from zenodo_export.settings import Settings
from zenodo_export.snapshots import SnapshotRequest, create_snapshot
from zenodo_export.store import DataExport, Store, get_export, list_alerts


def snapshot_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for crawling in tests: a temp data dir, retries at once, short timeouts."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "retry_delay_scale": 0.0,
        "max_attempts": 3,
        "lease_seconds": 30.0,
        "poll_interval": 0.05,
        "http_timeout": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def api() -> Iterator[ApiServer]:
    """A running paginated API (5 pages of 3 items per style, no latency, no faults)."""
    with ApiServer() as server:
        yield server


@pytest.fixture
def crawl_settings(tmp_path: Path) -> Settings:
    """Settings for in-process crawls."""
    return snapshot_settings(tmp_path)


def finished(store: Store, settings: Settings, snapshot_id: int) -> DataExport:
    """Run a burst worker in this process and return the snapshot as it ended."""
    run_burst(store, settings)
    return read_export(store, snapshot_id)


def read_export(store: Store, export_id: int) -> DataExport:
    """Return an export row, detached from its session."""
    with store.transaction() as session:
        export = get_export(session, export_id)
        session.expunge(export)
        return export


def dump_pages(snapshot: DataExport) -> list[Any]:
    """Return the snapshot's dump, one parsed JSON document per line."""
    with open(snapshot.data["files"]["dump"], encoding="utf-8") as stream:
        return [json.loads(line) for line in stream]


def alert_messages(store: Store, export_id: int) -> list[str]:
    """Return the messages of the export's alerts."""
    with store.transaction() as session:
        return [alert.message for alert in list_alerts(session, export_id=export_id)]


def crawl(store: Store, settings: Settings, url: str, **options: Any) -> DataExport:
    """Create a snapshot of ``url`` and run it to its end in this process."""
    request = SnapshotRequest(url=url, **options)
    return finished(store, settings, create_snapshot(store, settings, request))


def failure(store: Store, snapshot: DataExport) -> str:
    """Return the failed snapshot's one alert, checked to be one line without a traceback."""
    assert snapshot.state == "failed", "the snapshot did not fail"
    [message] = alert_messages(store, snapshot.id)
    assert "\n" not in message and "Traceback" not in message
    return message

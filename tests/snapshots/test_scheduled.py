"""Scheduled snapshots: `[snapshots.NAME]` in the config file, fired once per period."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.pipeline.conftest import run_burst
from tests.snapshots.api_server import ApiServer
from tests.snapshots.conftest import dump_pages, read_export, snapshot_settings
from zenodo_export.config_file import load_config_file
from zenodo_export.jobs import queue as jobs
from zenodo_export.schedules import fire_due
from zenodo_export.schedules.configured import all_schedules
from zenodo_export.store import Store
from zenodo_export.store.models import ScheduleRun


def test_a_scheduled_snapshot_fires_once_per_period_and_crawls(
    api: ApiServer, sqlite_store: Store, tmp_path: Path
) -> None:
    """A monthly snapshot entry: one snapshot per period, even when its job runs twice."""
    path = tmp_path / "config.toml"
    path.write_text(
        f'[snapshots.works]\nurl = "{api.url("meta")}"\nschedule = "monthly"\nupload = false\n'
    )
    settings = snapshot_settings(tmp_path, config=path)
    schedules = all_schedules(load_config_file(settings))
    assert [s.name for s in schedules] == ["snapshots.works"]
    now = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    assert len(fire_due(sqlite_store, schedules, now=now)) == 1
    assert fire_due(sqlite_store, schedules, now=now) == []  # that period is taken

    run_burst(sqlite_store, settings)
    with sqlite_store.transaction() as session:
        [run] = session.query(ScheduleRun).all()
        snapshot_id, payload = run.export_id, jobs.list_jobs(session)[0].payload
        jobs.enqueue(session, "scheduled_snapshot", payload=payload)  # the same job, again
    run_burst(sqlite_store, settings)
    with sqlite_store.transaction() as session:
        snapshots = [j.export_id for j in jobs.list_jobs(session) if j.kind == "snapshot"]
    assert snapshot_id is not None and snapshots == [snapshot_id]
    snapshot = read_export(sqlite_store, snapshot_id)
    assert snapshot.state == "done" and snapshot.data["date"] == "2026-11-10"
    assert dump_pages(snapshot) == api.expected("meta")

"""A full disk under a report: the job's failure is recorded, no file of the run stays.

The report job runs in a real burst worker with its data dir on a small tmpfs; its query
(on a SQLite database elsewhere) makes as big a CSV as the test needs. ``LocalIOError`` is
retried, then the job fails with an alert; once the disk has room, the report runs whole.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.localio.conftest import SmallDisk, temporary_files
from tests.pipeline.conftest import run_burst
from tests.reports.conftest import create_works, report_settings, write_config
from zenodo_export.jobs.queue import enqueue
from zenodo_export.reports import KIND
from zenodo_export.settings import Settings
from zenodo_export.store import Job, Store, list_alerts

ROW_BYTES = 108
"""Bytes of one CSV row of ``padded_rows`` (up to 9999 rows)."""


def padded_rows(rows: int) -> str:
    """Return a SQLite query giving ``rows`` rows of about ``ROW_BYTES`` bytes each."""
    return (
        f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) "
        "SELECT i AS id, printf('%0100d', i) AS padding FROM n"
    )


def big_report(sandbox: Any, tmp_path: Path, disk: SmallDisk, rows: int) -> Settings:
    """Settings whose ``stats`` report writes a CSV of ``rows`` rows to the small disk."""
    works_url = f"sqlite:///{tmp_path / 'works.db'}"
    create_works(works_url)
    body = f'[reports.stats]\ndatabase_url = {works_url!r}\nquery = """{padded_rows(rows)}"""\n'
    return report_settings(sandbox, tmp_path, write_config(tmp_path, body), data_dir=disk.path)


def run_report_job(store: Store, settings: Settings) -> Job:
    """Queue the ``stats`` report for 2026-11-10, run a burst worker, return the job."""
    with store.transaction() as session:
        job_id = enqueue(session, KIND, payload={"target": "stats", "date": "2026-11-10"}).id
    run_burst(store, settings)
    with store.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def alerts(store: Store) -> list[str]:
    """Return every unresolved alert's message."""
    with store.transaction() as session:
        return [alert.message for alert in list_alerts(session)]


def report_folder(disk: SmallDisk) -> Path:
    """Return the folder of the ``stats`` report of 2026-11-10 on the disk."""
    return disk.path / "reports" / "stats" / "report_2026-11-10"


def test_a_csv_that_does_not_fit_fails_the_report_job(
    store: Store, sandbox: Any, small_disk: Callable[..., SmallDisk], tmp_path: Path
) -> None:
    """The CSV fills the disk: the job fails naming the file, and no temp file stays."""
    disk = small_disk("64k")
    settings = big_report(sandbox, tmp_path, disk, rows=2000)  # about 216 KB of CSV
    job = run_report_job(store, settings)
    csv = report_folder(disk) / "stats.csv"
    assert (job.status, job.attempts) == ("failed", settings.max_attempts)
    assert job.last_error == f"LocalIOError: cannot write {csv}: disk full"
    assert alerts(store) == [f"cannot write {csv}: disk full"]
    assert temporary_files(disk.path) == []
    assert list(report_folder(disk).iterdir()) == []


def test_a_zip_that_does_not_fit_is_not_started_and_the_run_is_undone(
    store: Store, sandbox: Any, small_disk: Callable[..., SmallDisk], tmp_path: Path
) -> None:
    """The CSV fits, its zip would not: refused before writing; the CSV and README removed."""
    disk = small_disk("136k")
    settings = big_report(sandbox, tmp_path, disk, rows=750)  # about 81 KB of CSV
    job = run_report_job(store, settings)
    zipped = report_folder(disk) / "stats_2026-11-10.zip"
    assert job.status == "failed"
    message = job.last_error or ""
    assert message.startswith(f"LocalIOError: no room in {zipped.parent} for {zipped.name}: ")
    assert "bytes needed" in message
    assert alerts(store) == [message.removeprefix("LocalIOError: ")]
    assert temporary_files(disk.path) == []
    assert list(report_folder(disk).iterdir()) == []

    disk.resize("1m")
    job = run_report_job(store, settings)
    assert job.status == "done", job.last_error
    assert sorted(path.name for path in report_folder(disk).iterdir()) == [
        "README.md",
        "stats.csv",
        zipped.name,
    ]
    with store.transaction() as session:
        assert session.scalars(select(Job.status).where(Job.kind == "data_export")).all() == [
            "done"
        ]

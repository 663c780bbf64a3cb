"""Running a report: SQL to CSV on SQLite and PostgreSQL, README, zip, file log, export."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.pipeline.conftest import run_burst
from tests.reports.conftest import (
    EXPECTED_CSV,
    create_works,
    report_config,
    report_settings,
    write_config,
)
from zenodo_export.config_file import load_config_file
from zenodo_export.errors import ConfigError, Rejected, Transient
from zenodo_export.reports import ReportRun, run_report
from zenodo_export.store import Store, get_export
from zenodo_export.store.models import FileWriteLog

NOVEMBER = dt.date(2026, 11, 10)


def stats_run(settings: Any, date: dt.date = NOVEMBER) -> ReportRun:
    """Return a run of the ``stats`` report of the configured file."""
    return ReportRun(name="stats", report=load_config_file(settings).report("stats"), date=date)


def test_report_query_becomes_a_published_lagotto_export(
    store: Store, works_url: str, sandbox: Any, tmp_path: Path
) -> None:
    """The query's CSV and a README are zipped, every file logged, the export published."""
    settings = report_settings(sandbox, tmp_path, write_config(tmp_path, report_config(works_url)))
    export_id = run_report(store, settings, stats_run(settings))
    folder = tmp_path / "data" / "reports" / "stats" / "report_2026-11-10"
    assert (folder / "stats.csv").read_bytes().decode() == EXPECTED_CSV
    with zipfile.ZipFile(folder / "stats_2026-11-10.zip") as archive:
        assert sorted(archive.namelist()) == ["README.md", "stats.csv"]
        assert archive.read("stats.csv").decode() == EXPECTED_CSV
        readme = archive.read("README.md").decode()
    assert readme.startswith("# Cumulative PLOS ALM Report - November 2026\n")
    with store.transaction() as session:
        logged = {(row.filepath, row.file_type) for row in session.scalars(select(FileWriteLog))}
        export = get_export(session, export_id)
        assert export.name == "stats" and export.files == (str(folder / "stats_2026-11-10.zip"),)
        assert export.title == "Cumulative PLOS ALM Report - November 2026"
        assert "cumulative PLOS ALM stats for all works through 2026-11-10" in export.description
        assert export.creators == ("Lin, Jennifer",)
    assert logged == {
        (str(folder / "stats.csv"), "csv"),
        (str(folder / "README.md"), "readme"),
        (str(folder / "stats_2026-11-10.zip"), "zip"),
    }
    assert run_burst(store, settings).counts == {"done": 1}
    with store.transaction() as session:
        assert get_export(session, export_id).state == "done"


def test_files_report_zips_existing_files_with_its_own_templates(
    sqlite_store: Store, sandbox: Any, tmp_path: Path
) -> None:
    """A ``files`` report zips the given files; title and description templates are filled."""
    data = tmp_path / "alm.json"
    data.write_text('{"works": 3}')
    body = (
        "[reports.dump]\n"
        f"files = [{str(data)!r}]\n"
        "title = 'Dump of {name} for {month}'\n"
        "description = 'Everything through {date}.'\n"
        "creators = ['Someone, Else']\n"
        "code_repository_url = 'https://example.org/code'\n"
        "keywords = ['dump']\n"
    )
    settings = report_settings(
        sandbox, tmp_path, write_config(tmp_path, body), creator=None, sitenamelong=None
    )
    run = ReportRun(name="dump", report=load_config_file(settings).report("dump"), date=NOVEMBER)
    export_id = run_report(sqlite_store, settings, run)
    with sqlite_store.transaction() as session:
        export = get_export(session, export_id)
        assert (export.title, export.description) == (
            "Dump of dump for November 2026",
            "Everything through 2026-11-10.",
        )
        assert export.creators == ("Someone, Else",) and export.keywords == ("dump",)
        with zipfile.ZipFile(export.files[0]) as archive:
            assert sorted(archive.namelist()) == ["README.md", "alm.json"]
        logged = {row.file_type for row in session.scalars(select(FileWriteLog))}
    assert logged == {"readme", "zip"}


def test_sql_error_names_the_report_and_leaves_no_csv(
    sqlite_store: Store, sqlite_url: str, sandbox: Any, tmp_path: Path
) -> None:
    """A query on a missing table is Rejected naming the report; no half CSV, no export."""
    create_works(sqlite_url)
    body = f"[reports.stats]\ndatabase_url = {sqlite_url!r}\nquery = 'SELECT * FROM nothing'\n"
    settings = report_settings(sandbox, tmp_path, write_config(tmp_path, body))
    with pytest.raises(Rejected, match=r"^report stats: query failed: .*nothing"):
        run_report(sqlite_store, settings, stats_run(settings))
    folder = tmp_path / "data" / "reports" / "stats" / "report_2026-11-10"
    assert sorted(path.name for path in folder.iterdir()) == []


def test_unreachable_database_is_transient_without_the_password(
    sqlite_store: Store, sandbox: Any, tmp_path: Path
) -> None:
    """A PostgreSQL server that does not answer is Transient; the password is never shown."""
    url = "postgresql://reporter:s3cret@127.0.0.1:9/lagotto"
    body = f"[reports.stats]\ndatabase_url = {url!r}\nquery = 'SELECT 1'\n"
    settings = report_settings(sandbox, tmp_path, write_config(tmp_path, body))
    with pytest.raises(Transient, match=r"^report stats: database unavailable") as caught:
        run_report(sqlite_store, settings, stats_run(settings))
    assert "s3cret" not in str(caught.value)


def test_missing_lagotto_setting_stops_the_report(
    sqlite_store: Store, sqlite_url: str, sandbox: Any, tmp_path: Path
) -> None:
    """Without SITENAMELONG the default title cannot be made: ConfigError naming it."""
    settings = report_settings(
        sandbox,
        tmp_path,
        write_config(tmp_path, report_config(sqlite_url)),
        sitenamelong=None,
    )
    with pytest.raises(ConfigError, match=r"^report stats needs SITENAMELONG \(not set\)$"):
        run_report(sqlite_store, settings, stats_run(settings))

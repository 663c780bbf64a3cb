"""Run one report: write its files, a README and the zip, log them, and queue the export.

Files go to ``<data dir>/reports/<name>/report_YYYY-MM-DD/`` (Lagotto's ``report_<date>``
folder, one per report so that two reports of one day never share a README); the zip is
``<name>_YYYY-MM-DD.zip``. The written files' log rows, the export, its job and (for a
scheduled run) the period's ``export_id`` are stored in ONE transaction, so that a report job
that is run again after a crash never queues a second export for its period.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from zenodo_export.clock import utcnow
from zenodo_export.config_file import (
    DEFAULT_DESCRIPTION,
    DEFAULT_TITLE,
    ReportEntry,
    confinement_problem,
)
from zenodo_export.errors import ConfigError, Rejected
from zenodo_export.exports.kinds import DataExportJob
from zenodo_export.exports.staging import stage_files
from zenodo_export.filestore import files_store
from zenodo_export.localfiles import (
    make_directory,
    removed_on_failure,
    write_atomically,
    zip_files,
)
from zenodo_export.reports.query import query_to_csv
from zenodo_export.settings import Settings
from zenodo_export.store import Store, ZenodoDataExport
from zenodo_export.store.models import FileWriteLog, ScheduleRun


@dataclass(frozen=True)
class WrittenFile:
    """A file a report wrote, and its kind (``csv``, ``readme``, ``zip``)."""

    path: Path
    file_type: str


@dataclass(frozen=True)
class ReportRun:
    """What one run of a report is for: the report, its date, and the period that fired it."""

    name: str
    report: ReportEntry
    date: dt.date
    period: str | None = None
    schedule_run_id: int | None = None


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def missing_settings(report: ReportEntry, settings: Settings) -> list[str]:
    """Return the settings a report needs (for its defaults) that are not set."""
    templates = (report.title or DEFAULT_TITLE) + (report.description or DEFAULT_DESCRIPTION)
    needs = {
        "CREATOR": report.creators is None and not settings.creator,
        "GITHUB_URL": report.code_repository_url is None and not settings.github_url,
        "SITENAMELONG": "sitenamelong" in _placeholders(templates) and not settings.sitenamelong,
    }
    return [name for name, missing in needs.items() if missing]


def export_attributes(run: ReportRun, settings: Settings, zip_path: Path) -> dict[str, Any]:
    """Return the export's attributes: Lagotto's title and description unless the config says."""
    missing = missing_settings(run.report, settings)
    if missing:
        raise ConfigError(f"report {run.name} needs {', '.join(missing)} (not set)")
    values = {
        "name": run.name,
        "sitenamelong": settings.sitenamelong or "",
        "date": run.date.isoformat(),
        "month": run.date.strftime("%B %Y"),
        "period": run.period or run.date.isoformat(),
    }
    report = run.report
    return {
        "name": run.name,
        "files": [str(zip_path)],
        "publication_date": run.date,
        "title": (report.title or DEFAULT_TITLE).format(**values),
        "description": (report.description or DEFAULT_DESCRIPTION).format(**values),
        "creators": list(report.creators or [settings.creator]),
        "keywords": list(report.keywords),
        "code_repository_url": report.code_repository_url or settings.github_url,
        "license": report.license or settings.license,
    }


def report_directory(settings: Settings, run: ReportRun) -> Path:
    """Return the folder of one run's files."""
    return settings.data_dir / "reports" / run.name / f"report_{run.date.isoformat()}"


def readme_text(run: ReportRun, attributes: dict[str, Any], contents: list[str]) -> str:
    """Return the README zipped with the report's files."""
    listed = "\n".join(f"- {line}" for line in contents)
    fired = f"the scheduled period {run.period}" if run.period else "a run by hand"
    return (
        f"# {attributes['title']}\n\n{attributes['description']}\n\n"
        f"Report `{run.name}`, written {utcnow().isoformat(timespec='seconds')} for {fired}.\n"
        f"Made by {attributes['code_repository_url']}\n\nFiles:\n{listed}\n"
    )


def _contents(run: ReportRun, directory: Path) -> list[WrittenFile]:
    report = run.report
    if report.query is None:
        for path in report.files:
            problem = confinement_problem(path, report.roots)
            if problem:  # checked when the file was read too; a symlink may have changed
                raise Rejected(f"report {run.name}: file {problem}")
            if not path.is_file():
                raise Rejected(f"report {run.name}: file {path} does not exist")
        return [WrittenFile(path, "file") for path in report.files]
    assert report.database_url is not None
    csv_path = directory / f"{run.name}.csv"
    query_to_csv(
        run.name,
        report.database_url,
        report.query,
        csv_path,
        timeout_seconds=report.timeout_seconds,
    )
    return [WrittenFile(csv_path, "csv")]


def check_unique_names(report: str, paths: list[Path]) -> None:
    """Refuse two files of one name in the zip (the second would hide the first)."""
    seen: dict[str, Path] = {}
    for path in paths:
        if path.name in seen:
            raise Rejected(
                f"report {report}: two files named {path.name!r} in the zip: "
                f"{seen[path.name]} and {path}"
            )
        seen[path.name] = path


def write_files(run: ReportRun, settings: Settings) -> tuple[list[WrittenFile], dict[str, Any]]:
    """Write the report's files, README and zip; return what was written and the attributes.

    Each file is written atomically; the zip only if the disk has room for it uncompressed.
    A full disk or a folder we may not write raises ``LocalIOError`` naming the path, and
    the files this run wrote are removed (a retry writes them again).
    """
    directory = report_directory(settings, run)
    make_directory(directory)
    zip_path = directory / f"{run.name}_{run.date.isoformat()}.zip"
    attributes = export_attributes(run, settings, zip_path)
    contents = _contents(run, directory)
    written = [c for c in contents if c.file_type != "file"]
    readme = directory / "README.md"
    with removed_on_failure([*(c.path for c in written), readme, zip_path]):
        text = readme_text(run, attributes, [c.path.name for c in contents])
        write_atomically(readme, [text.encode("utf-8")])
        check_unique_names(run.name, [c.path for c in contents] + [readme])
        zip_files(zip_path, [c.path for c in contents] + [readme])
    return [*written, WrittenFile(readme, "readme"), WrittenFile(zip_path, "zip")], attributes


def _period(session: Session, run: ReportRun) -> ScheduleRun | None:
    return session.get(ScheduleRun, run.schedule_run_id) if run.schedule_run_id else None


Transaction = Callable[[], AbstractContextManager[Session]]
"""Opens the transaction that queues a report's export (a job's is fenced by its lease)."""


def _queue(
    transaction: Transaction, run: ReportRun, written: list[WrittenFile], attributes: dict[str, Any]
) -> int:
    with transaction() as session:
        period = _period(session, run)
        if period is not None and period.export_id is not None:
            return period.export_id  # queued meanwhile by another attempt of this job
        session.add_all(FileWriteLog(filepath=str(f.path), file_type=f.file_type) for f in written)
        export = ZenodoDataExport.create(session, **attributes)
        DataExportJob.perform_later(session, id=export.id)
        if period is not None:
            period.export_id = export.id
        return export.id


def run_report(
    store: Store, settings: Settings, run: ReportRun, *, transaction: Transaction | None = None
) -> int:
    """Write the report's files and queue their export; return the export's id.

    The zip is staged into the files store before the export is queued, so that any worker
    uploads it, and a later run of the same day (which rewrites the zip) changes nothing this
    run's record holds. A scheduled period whose export was already queued (an attempt that
    died after its commit) returns that export and writes nothing again. ``transaction``
    opens the queuing transaction (a job passes its lease-fenced one); by default the store's.
    """
    with store.transaction() as session:
        period = _period(session, run)
        if period is not None and period.export_id is not None:
            return period.export_id
    written, attributes = write_files(run, settings)
    attributes["files"] = stage_files(files_store(settings), attributes["files"])
    return _queue(transaction or store.transaction, run, written, attributes)

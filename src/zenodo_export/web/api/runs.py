"""``/api/v1/reports`` and ``/api/v1/snapshots``: list them, and start one now.

Starting one does what the ``report`` and ``snapshot`` commands do (``run_report``,
``create_snapshot``, the same checks): a report writes its files and queues their export; a
snapshot is queued for a worker to crawl.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request

from zenodo_export.config_file import ConfigFile, load_config_file
from zenodo_export.reports import ReportRun, missing_settings, run_report
from zenodo_export.snapshots import create_snapshot, parse_request
from zenodo_export.store.browse import ExportFilter, count_matching
from zenodo_export.store.browse import export_page as browse_exports
from zenodo_export.store.models import ExportState
from zenodo_export.web.access import Viewer
from zenodo_export.web.api.deps import Acting
from zenodo_export.web.api.exports import public, read
from zenodo_export.web.api.models import ExportList, ExportPublic, ReportPublic, SnapshotStart
from zenodo_export.web.api.paging import After, Before, Limit, Oldest, links
from zenodo_export.web.context import Db, Web, WebState

reports = APIRouter(prefix="/reports", tags=["reports"])
snapshots = APIRouter(prefix="/snapshots", tags=["snapshots"])

EntryName = Annotated[str, Path(max_length=255, description="The entry's name in the config.")]


def today_in(config_file: ConfigFile) -> dt.date:
    """Return today's date where the config file's schedules are read (as the commands do)."""
    return dt.datetime.now(ZoneInfo(config_file.schedules.timezone)).date()


def start_report(web: Web, config_file: ConfigFile, name: str) -> int:
    """Run a report now, as ``zenodo-export report NAME`` does; return its export's id."""
    run = ReportRun(name=name, report=config_file.report(name), date=today_in(config_file))
    return run_report(web.store, web.settings, run)


def start_snapshot_entry(web: Web, config_file: ConfigFile, name: str) -> int:
    """Start a ``[snapshots.NAME]`` entry's snapshot now; return its id."""
    entry = config_file.snapshot(name)
    return create_snapshot(web.store, web.settings, entry, today=today_in(config_file))


@reports.get("", summary="List the reports of the config file")
def list_reports(db: Db, web: WebState, _: Viewer) -> list[ReportPublic]:
    """Each ``[reports.NAME]`` entry, the settings it lacks, and its newest export."""
    found = []
    for name, entry in sorted(load_config_file(web.settings).reports.items()):
        same = ExportFilter(name=name, type="ZenodoDataExport")
        latest = browse_exports(db, same, limit=1).rows
        found.append(
            ReportPublic(
                name=name,
                schedule=entry.schedule,
                source="query" if entry.query else "files",
                missing_settings=missing_settings(entry, web.settings),
                latest=public(latest[0]) if latest else None,
            )
        )
    return found


@reports.post("/{name}/run", status_code=201, summary="Run a report now")
def run_report_now(name: EntryName, web: WebState, _: Acting) -> ExportPublic:
    """Write the report's files and queue their export; answer the export."""
    return read(web.store, start_report(web, load_config_file(web.settings), name))


@snapshots.get("", summary="List API snapshots, newest first")
def list_snapshots(
    request: Request,
    db: Db,
    _: Viewer,
    state: ExportState | None = None,
    limit: Limit = 50,
    before: Before = None,
    after: After = None,
    oldest: Oldest = False,
) -> ExportList:
    """The snapshots (``ApiSnapshot`` exports), one page at a time."""
    which = ExportFilter(state=state, type="ApiSnapshot")
    page = browse_exports(db, which, limit=limit, before=before, after=after, oldest=oldest)
    older, newer = links(request, page)
    items = [public(snapshot) for snapshot in page.rows]
    return ExportList(items=items, next=older, previous=newer, total=count_matching(db, which))


@snapshots.post("", status_code=201, summary="Start a snapshot of a JSON API")
def start_snapshot(body: SnapshotStart, web: WebState, _: Acting) -> ExportPublic:
    """Queue a snapshot of ``url`` with the ``snapshot`` command's options and checks."""
    request = parse_request(body.model_dump())
    return read(web.store, create_snapshot(web.store, web.settings, request))

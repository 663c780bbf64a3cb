"""The ``snapshot`` command: crawl a paginated JSON API into a dump, zip it, maybe archive it."""

from __future__ import annotations

from typing import Annotated

import typer

from zenodo_export.cli.app import app
from zenodo_export.cli.context import console, opened_store, print_json, require_token, settings
from zenodo_export.cli.exports import ExportFailed, follow_export
from zenodo_export.exports.views import export_view
from zenodo_export.pipeline.follow import follow
from zenodo_export.pipeline.runner import JobRunner
from zenodo_export.snapshots import create_snapshot
from zenodo_export.snapshots.options import CONCURRENCY, PAGES_PER_JOB
from zenodo_export.store import DataExport, Store, get_export


@app.command("snapshot")
def snapshot_command(
    url: Annotated[str, typer.Argument(help="The paginated JSON API endpoint to crawl.")],
    pages_per_job: Annotated[
        int, typer.Option(help="Pages crawled per job; a killed job redoes at most these.")
    ] = PAGES_PER_JOB,
    start_page: Annotated[int, typer.Option(help="First page to crawl.")] = 1,
    stop_page: Annotated[
        int | None, typer.Option(help="Last page to crawl [default: the API's last].")
    ] = None,
    concurrency: Annotated[
        int, typer.Option(help="Pages fetched at the same time when page numbers are known.")
    ] = CONCURRENCY,
    upload: Annotated[
        bool,
        typer.Option("--upload", help="Archive the zip on Zenodo when done (a new version)."),
    ] = False,
    benchmark: Annotated[
        bool, typer.Option("--benchmark", help="Write a side file with each page's time.")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="Follow the snapshot (and its upload) to the end, running it here."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (a stable format).")] = False,
) -> None:
    """Snapshot a paginated JSON API: one JSON document per page, zipped; print its id."""
    config = settings()
    if wait and upload:
        require_token(config, "--wait --upload runs the upload here")
    with opened_store(config) as store:
        snapshot_id = create_snapshot(
            store,
            config,
            url,
            pages_per_job=pages_per_job,
            start_page=start_page,
            stop_page=stop_page,
            concurrency=concurrency,
            upload=upload,
            benchmark=benchmark,
        )
        if not wait:
            _print(_read(store, snapshot_id), as_json)
            return
        final = follow(store, JobRunner(store, config), snapshot_id)
        upload_id = final.data.get("upload_export_id")
        uploaded = None
        if upload_id is not None and final.state == "done":
            uploaded = follow_export(store, config, upload_id, quiet=as_json)
        _print(final, as_json, uploaded)


def _read(store: Store, export_id: int) -> DataExport:
    with store.transaction() as session:
        export = get_export(session, export_id)
        session.expunge(export)
        return export


def _print(snapshot: DataExport, as_json: bool, uploaded: DataExport | None = None) -> None:
    if as_json:
        view = export_view(snapshot)
        if uploaded is not None:
            view["upload"] = export_view(uploaded)
        print_json(view)
    if snapshot.state == "failed":
        raise ExportFailed(f"snapshot {snapshot.id} failed: {snapshot.last_error}")
    if not as_json:
        _print_text(snapshot)
    if uploaded is not None and uploaded.state == "failed":
        raise ExportFailed(f"export {uploaded.id} failed: {uploaded.last_error}")
    if uploaded is not None and not as_json:
        line = f"export {uploaded.id} {uploaded.state}: {uploaded.url} (DOI {uploaded.doi})"
        console.print(line, highlight=False, soft_wrap=True)


def _print_text(snapshot: DataExport) -> None:
    if snapshot.state == "done":
        files = snapshot.data.get("files", {})
        console.print(
            f"snapshot {snapshot.id} done: {files.get('zip')}", highlight=False, soft_wrap=True
        )
    else:
        console.print(snapshot.id)

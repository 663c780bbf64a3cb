"""The ``snapshot`` command: crawl a paginated JSON API into a dump, zip it, maybe archive it."""

from __future__ import annotations

from typing import Annotated

import typer

from zenodo_export.cli.app import app
from zenodo_export.cli.context import console, opened_store, print_json, require_token, say
from zenodo_export.cli.exports import ExportFailed, follow_export
from zenodo_export.errors import InvalidExport
from zenodo_export.exports.follow import follow
from zenodo_export.exports.views import export_view
from zenodo_export.kinds import job_runner
from zenodo_export.settings import load_settings
from zenodo_export.snapshots import create_snapshot, parse_request
from zenodo_export.snapshots.options import request_default
from zenodo_export.store import DataExport, Store, get_export


@app.command("snapshot")
def snapshot_command(
    url: Annotated[str, typer.Argument(help="The paginated JSON API endpoint to crawl.")],
    pages_per_job: Annotated[
        int, typer.Option(help="Pages crawled per job; a killed job redoes at most these.")
    ] = request_default("pages_per_job"),
    start_page: Annotated[int, typer.Option(help="First page to crawl.")] = request_default(
        "start_page"
    ),
    stop_page: Annotated[
        int | None, typer.Option(help="Last page to crawl [default: the API's last].")
    ] = request_default("stop_page"),
    concurrency: Annotated[
        int, typer.Option(help="Pages fetched at the same time when page numbers are known.")
    ] = request_default("concurrency"),
    upload: Annotated[
        bool,
        typer.Option("--upload", help="Archive the zip on Zenodo when done (a new version)."),
    ] = request_default("upload"),
    benchmark: Annotated[
        bool, typer.Option("--benchmark", help="Write a side file with each page's time.")
    ] = request_default("benchmark"),
    header: Annotated[
        list[str] | None,
        typer.Option(
            "--header",
            help="NAME=env:VARIABLE: send header NAME with every page, its value read from "
            "the environment variable (never stored or shown); repeatable.",
        ),
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Another host (or host:port) whose next links and redirects are followed.",
        ),
    ] = None,
    allow_private: Annotated[
        bool,
        typer.Option(
            "--allow-private", help="Follow links to loopback, link-local and private addresses."
        ),
    ] = request_default("allow_private"),
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="Follow the snapshot (and its upload) to the end, running it here."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (a stable format).")] = False,
) -> None:
    """Snapshot a paginated JSON API: one JSON document per page, zipped; print its id.

    A [snapshots.NAME] entry of the config file takes the same options, with the same
    defaults and checks. A URL carrying a credential is refused: pass it with --header.
    """
    request = parse_request(
        {
            "url": url,
            "pages_per_job": pages_per_job,
            "start_page": start_page,
            "stop_page": stop_page,
            "concurrency": concurrency,
            "upload": upload,
            "benchmark": benchmark,
            "headers": parse_headers(header or []),
            "allow_hosts": tuple(allow_host or ()),
            "allow_private": allow_private,
        }
    )
    settings = load_settings()
    if wait and upload:
        require_token(settings, "--wait --upload runs the upload here")
    with opened_store(settings) as store:
        snapshot_id = create_snapshot(store, settings, request)
        if not wait:
            _print(_read(store, snapshot_id), as_json)
            return
        final = follow(job_runner(store, settings), snapshot_id)
        upload_id = final.data.get("upload_export_id")
        uploaded = None
        if upload_id is not None and final.state == "done":
            uploaded = follow_export(store, settings, upload_id, quiet=as_json)
        _print(final, as_json, uploaded)


def parse_headers(given: list[str]) -> dict[str, str]:
    """Return ``--header NAME=env:VARIABLE`` options as a mapping (checked by the request)."""
    headers: dict[str, str] = {}
    for entry in given:
        name, equals, value = entry.partition("=")
        if not equals:
            raise InvalidExport("headers", f"--header {name.strip()!r}: use NAME=env:VARIABLE")
        headers[name.strip()] = value.strip()
    return headers


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
        say(f"export {uploaded.id} {uploaded.state}: {uploaded.url} (DOI {uploaded.doi})")


def _print_text(snapshot: DataExport) -> None:
    if snapshot.state == "done":
        files = snapshot.data.get("files", {})
        say(f"snapshot {snapshot.id} done: {files.get('zip')}")
    else:
        console.print(snapshot.id)

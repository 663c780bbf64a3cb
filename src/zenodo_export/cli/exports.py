"""Commands on exports: ``export``, ``list``, ``show``, ``retry``."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from sqlalchemy.orm import Session

from zenodo_export.cli.app import app
from zenodo_export.cli.context import (
    console,
    err_console,
    opened_store,
    print_json,
    print_rows,
    require_token,
    say,
)
from zenodo_export.cli.progress import RichProgress
from zenodo_export.errors import InvalidExport, ZenodoExportError
from zenodo_export.exports import waiting
from zenodo_export.exports.follow import follow
from zenodo_export.exports.progress import LogProgress, Progress
from zenodo_export.exports.service import create_and_queue, retry_export
from zenodo_export.exports.undo import cancel_export, delete_export, discard_draft
from zenodo_export.exports.views import export_view
from zenodo_export.filestore import files_store
from zenodo_export.jobs import queue
from zenodo_export.kinds import job_runner
from zenodo_export.settings import Settings, load_settings
from zenodo_export.store import DataExport, Job, Store, get_export, list_exports
from zenodo_export.zenodo.factory import client_factory

State = Literal["pending", "processing", "done", "failed"]
Versioning = Literal["native", "related-identifier", "none"]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (a stable format).")]


FLAGS = {
    "name": "--name",
    "title": "--title",
    "description": "--description",
    "creators": "--creator (default: $CREATOR)",
    "keywords": "--keyword",
    "publication_date": "--publication-date",
    "code_repository_url": "--code-repository-url (default: $GITHUB_URL)",
    "license": "--license",
    "version": "--version",
    "communities": "--community",
}
"""The option of ``export`` that sets each attribute, named in its errors."""


class ExportFailed(ZenodoExportError):
    """An export followed with --wait ended failed."""


@app.command("export")
def export_command(
    files: Annotated[list[Path], typer.Argument(help="Files to archive, one Zenodo file each.")],
    name: Annotated[str, typer.Option(help="Internal name; exports of one name are versions.")],
    title: Annotated[str, typer.Option(help="Title of the Zenodo record.")],
    description: Annotated[str, typer.Option(help="Description of the Zenodo record.")],
    keyword: Annotated[list[str], typer.Option(help="A keyword, repeatable (one at least).")],
    creator: Annotated[
        list[str] | None, typer.Option(help="A creator's name, repeatable [default: $CREATOR].")
    ] = None,
    publication_date: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD [default: today].")
    ] = None,
    code_repository_url: Annotated[
        str | None, typer.Option(help="Code that made the data [default: $GITHUB_URL].")
    ] = None,
    license: Annotated[str | None, typer.Option(help="License id [default: cc-zero].")] = None,
    version: Annotated[str | None, typer.Option(help="Version string of the record.")] = None,
    community: Annotated[
        list[str] | None, typer.Option(help="Zenodo community id, repeatable.")
    ] = None,
    versioning: Annotated[
        Versioning | None,
        typer.Option(
            help="How it links to the previous export of its name "
            "[default: ZENODO_EXPORT_VERSIONING]."
        ),
    ] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Follow the export to its end (runs it here if no "
            "worker is up) and print its URL and DOI.",
        ),
    ] = False,
    in_place: Annotated[
        bool,
        typer.Option(
            "--in-place",
            help="Leave the files where they are (no copy in the files store); only a worker "
            "on this machine will upload them.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create an export and queue its upload; print its id.

    The files are first copied into the files store (ZENODO_EXPORT_STORAGE), so that any
    worker can upload them as they are now.
    """
    settings = load_settings()
    if wait:  # before anything is stored: --wait without a token would leave it queued
        require_token(settings, "--wait needs it to run the export here")
    attributes = {
        "name": name,
        "files": [str(path) for path in files],
        "title": title,
        "description": description,
        "creators": creator or ([settings.creator] if settings.creator else []),
        "keywords": keyword,
        "publication_date": publication_date or dt.date.today().isoformat(),
        "code_repository_url": code_repository_url or settings.github_url or "",
        "license": license or settings.license,
        "version": version,
        "communities": community or [],
        "versioning": versioning,
    }
    with opened_store(settings) as store:
        staging = None if in_place else files_store(settings)
        try:
            export_id = create_and_queue(store, staging=staging, **attributes)
        except InvalidExport as exc:
            raise InvalidExport(FLAGS.get(exc.field, exc.field), exc.message) from None
        if not wait:
            print_created(store, export_id, as_json)
            return
        final = follow_export(store, settings, export_id, quiet=as_json)
        print_final(final, as_json)


def print_created(store: Store, export_id: int, as_json: bool) -> None:
    """Print a queued export's id, or its JSON view."""
    if as_json:
        with store.transaction() as session:
            print_json(export_view(get_export(session, export_id)))
    else:
        console.print(export_id)


def follow_export(store: Store, settings: Settings, export_id: int, *, quiet: bool) -> DataExport:
    """Run or watch the export to its end; Ctrl-C says what happens next (twice: cancels)."""
    require_token(settings, "--wait needs it to run the export here")
    try:
        return _follow_export(store, settings, export_id, quiet=quiet)
    except KeyboardInterrupt:
        say(
            f"export {export_id} stays queued: a worker will publish it "
            f"(`zenodo-export cancel {export_id}` stops it). Ctrl-C again within "
            f"{SECOND_INTERRUPT_SECONDS} s cancels it now.",
            err=True,
        )
        try:
            time.sleep(SECOND_INTERRUPT_SECONDS)
        except KeyboardInterrupt:
            cancel_export(store, export_id)
            err_console.print(f"export {export_id} cancelled", highlight=False)
        raise typer.Exit(130) from None


SECOND_INTERRUPT_SECONDS = 3
"""How long a second Ctrl-C during --wait cancels the export."""


def _follow_export(store: Store, settings: Settings, export_id: int, *, quiet: bool) -> DataExport:
    progress: Progress = (
        LogProgress() if quiet or not err_console.is_terminal else (RichProgress(err_console))
    )

    def notice(message: str) -> None:
        say(message, err=True)

    if isinstance(progress, RichProgress):
        with progress:
            return follow(job_runner(store, settings, progress=progress), export_id, notice=notice)
    return follow(job_runner(store, settings, progress=progress), export_id, notice=notice)


def print_final(export: DataExport, as_json: bool) -> None:
    """Print how a followed export ended; a failed one raises ``ExportFailed``."""
    if as_json:
        print_json(export_view(export))
    if export.state == "failed":
        raise ExportFailed(f"export {export.id} failed: {export.last_error}")
    if not as_json:
        say(f"export {export.id} {export.state}: {export.url} (DOI {export.doi})")


@app.command("list")
def list_command(
    state: Annotated[State | None, typer.Option(help="Only exports in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List exports, newest first."""
    settings = load_settings()
    with opened_store(settings) as store, store.transaction() as session:
        exports = list_exports(session, state=state, limit=limit)
        if as_json:
            print_json([export_view(export) for export in exports])
            return
        notes = [_note(session, export) for export in exports]
        kept: dict[str, list[str]] = {
            "id": [str(export.id) for export in exports],
            "state": [export.state for export in exports],
            "created": [export.created_at.strftime("%Y-%m-%d %H:%M") for export in exports],
        }
        if any(export.url for export in exports):
            kept["url"] = [export.url or "" for export in exports]
        folded_columns = {"name": [export.name for export in exports]}
        if any(notes):
            folded_columns["waiting for / last error"] = notes
        print_rows(kept, folded_columns)


def _note(session: Session, export: DataExport) -> str:
    """Why an unfinished export waits, or why a failed one failed (empty once published)."""
    if export.state == "failed":
        return export.last_error or ""
    return waiting.reason(session, export) or ""


@app.command("show")
def show_command(
    export_id: Annotated[int, typer.Argument(help="The export's id.")],
    as_json: JsonFlag = False,
) -> None:
    """Show one export: its state, record, files and last error."""
    settings = load_settings()
    with opened_store(settings) as store, store.transaction() as session:
        export = get_export(session, export_id)
        view = export_view(export)
        job = queue.active_job_for_export(session, export_id)
        view["job"] = job_view(job) if job is not None else None
        view["waiting"] = waiting.reason(session, export)
    if as_json:
        print_json(view)
        return
    for line in labelled(view):
        say(line)


def job_view(job: Job) -> dict[str, Any]:
    """Return what a person waiting wants to know of an export's active job."""
    view: dict[str, Any] = {"status": job.status, "queue": job.queue, "attempts": job.attempts}
    if job.status == "queued":
        view["next_attempt_at"] = job.run_at.isoformat()
    else:
        view["running_on"] = job.locked_by
    view["waiting_because"] = job.last_error or None
    return view


def labelled(view: dict[str, Any], indent: str = "", *, fields: bool = True) -> list[str]:
    """Return an export's view as labelled lines (nested values indented), empty ones left out.

    Field names read as words (``record_id`` -> ``record id``); file names stay as they are.
    """
    lines = []
    for key, value in view.items():
        if value in (None, {}, [], ""):
            continue
        label = key.replace("_", " ") if fields else key
        if isinstance(value, dict):
            nested = labelled(value, indent + "  ", fields=key != "files")
            lines += [f"{indent}{label}:", *nested]
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            lines.append(f"{indent}{label}:")
            for item in value:
                nested = labelled(item, indent + "    ") if isinstance(item, dict) else [str(item)]
                lines += [f"{indent}  - {nested[0].lstrip()}", *nested[1:]]
        elif isinstance(value, list):
            items = [", ".join(f"{k}={v}" for k, v in i.items()) if isinstance(i, dict) else str(i)
                     for i in value]  # fmt: skip
            lines.append(f"{indent}{label}: {'; '.join(items)}")
        else:
            lines.append(f"{indent}{label}: {value}")
    return lines


@app.command("cancel")
def cancel_command(export_id: Annotated[int, typer.Argument(help="The export's id.")]) -> None:
    """Stop a queued, waiting or running export (or snapshot) and discard its draft.

    A published record is never touched. `retry` queues a cancelled export again.
    """
    settings = load_settings()
    with opened_store(settings) as store:
        cancelled = cancel_export(store, export_id)
        what = "stopped at its next step" if cancelled.was_running else "will not run"
        console.print(f"export {export_id} cancelled: it {what}", highlight=False)
        if cancelled.draft_id is None:
            return
        if settings.zenodo_token is None:
            console.print(
                f"its draft {cancelled.draft_id} stays on Zenodo (no ZENODO_TOKEN to delete it)",
                highlight=False,
            )
            return
        with client_factory(settings, store=store)() as client:
            console.print(discard_draft(client, cancelled.draft_id), highlight=False)


@app.command("delete")
def delete_command(export_id: Annotated[int, typer.Argument(help="The export's id.")]) -> None:
    """Delete an export that never reached Zenodo, with its staged files."""
    settings = load_settings()
    with opened_store(settings) as store:
        freed = delete_export(store, files_store(settings), export_id)
    console.print(
        f"export {export_id} deleted; {freed} byte(s) of staged files removed", highlight=False
    )


@app.command("retry")
def retry_command(export_id: Annotated[int, typer.Argument(help="The export's id.")]) -> None:
    """Queue a failed export again; it resumes from where it stopped."""
    settings = load_settings()
    with opened_store(settings) as store:
        job_id = retry_export(store, export_id)
    console.print(f"export {export_id} queued again (job {job_id})")

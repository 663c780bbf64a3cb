"""The ``janitor`` command: delete our drafts that no export owns (Zenodo never expires them)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from zenodo_export.cli.app import app
from zenodo_export.cli.context import console, opened_store, print_json, require_token
from zenodo_export.cli.storage import describe_sweep
from zenodo_export.exports.janitor import run_janitor
from zenodo_export.exports.retention import sweep_store
from zenodo_export.filestore import files_store
from zenodo_export.settings import load_settings
from zenodo_export.zenodo.factory import client_factory


@app.command("janitor")
def janitor_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list the orphans.")] = False,
    grace: Annotated[
        float | None,
        typer.Option(
            help="Seconds a draft must be old to be deleted "
            "[default: ZENODO_EXPORT_JANITOR_GRACE_SECONDS]."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (a stable format).")] = False,
) -> None:
    """Delete drafts carrying our mark that no export owns, once older than the grace period;
    remove from the files store what no export needs any more."""
    settings = load_settings()
    require_token(settings, "the janitor lists and deletes drafts")
    grace_seconds = settings.janitor_grace_seconds if grace is None else grace
    files = files_store(settings)
    with opened_store(settings) as store, client_factory(settings, store=store)() as client:
        report = run_janitor(store, client, grace_seconds=grace_seconds, dry_run=dry_run)
        swept = sweep_store(
            store, files, retention_days=settings.storage_retention_days, dry_run=dry_run
        )
    if as_json:
        print_json({**asdict(report), "files_store": asdict(swept)})
        return
    verb = "would delete" if dry_run else "deleted"
    ids = ", ".join(map(str, report.orphans)) or "none"
    console.print(
        f"{report.drafts_seen} draft(s) seen; {verb} {len(report.orphans)} orphan(s): {ids}",
        highlight=False,
    )
    console.print(describe_sweep(swept, dry_run=dry_run), highlight=False)

"""The ``storage`` commands: what the files store holds, and removing what nobody needs."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from zenodo_export.cli.app import app
from zenodo_export.cli.context import console, opened_store, print_json
from zenodo_export.exports.retention import SweepReport, sweep_store
from zenodo_export.exports.usage import store_usage
from zenodo_export.filestore import files_store
from zenodo_export.settings import load_settings

storage_app = typer.Typer(help="The files store: what it holds, what can go.", no_args_is_help=True)
app.add_typer(storage_app, name="storage")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (a stable format).")]


def megabytes(size: int) -> str:
    """Return a byte count for people."""
    return f"{size / 1e6:,.1f} MB"


@storage_app.command("du")
def du_command(as_json: JsonFlag = False) -> None:
    """Show what the files store holds (ZENODO_EXPORT_STORAGE) and what a sweep would free."""
    settings = load_settings()
    files = files_store(settings)
    with opened_store(settings) as store:
        usage = store_usage(store, files, retention_days=settings.storage_retention_days)
    if as_json:
        print_json(usage.to_data())
        return
    console.print(f"files store {usage.store}", highlight=False)
    for area, (count, size) in usage.areas.items():
        console.print(f"  {area:<10} {count:>7} file(s) {megabytes(size):>14}", highlight=False)
    console.print(
        f"  staged files held by {usage.held_by_unfinished} unfinished export(s) and "
        f"{usage.within_retention} within the retention of "
        f"{settings.storage_retention_days:g} day(s); {megabytes(usage.removable_now)} "
        "removable now (`zenodo-export storage sweep`)",
        highlight=False,
    )


def describe_sweep(report: SweepReport, *, dry_run: bool) -> str:
    """Return one line saying what a sweep removed (or would)."""
    verb = "would free" if dry_run else "freed"
    return (
        f"files store: {verb} {megabytes(report.bytes_freed)}: the staged files of "
        f"{report.exports} export(s) past their retention ({report.files} file(s)), "
        f"{report.orphans} orphan(s), {report.temporary} interrupted write(s)"
    )


@storage_app.command("sweep")
def sweep_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would go.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Remove staged files no export needs any more (the janitor does it too)."""
    settings = load_settings()
    files = files_store(settings)
    with opened_store(settings) as store:
        report = sweep_store(
            store, files, retention_days=settings.storage_retention_days, dry_run=dry_run
        )
    if as_json:
        print_json(asdict(report))
        return
    console.print(describe_sweep(report, dry_run=dry_run), highlight=False)

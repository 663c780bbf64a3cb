"""The ``check`` command: settings present, database migrated, Zenodo reachable, token accepted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from zenodo_export.checks import run_checks
from zenodo_export.cli.app import app
from zenodo_export.cli.context import print_json, say
from zenodo_export.settings import load_settings

MARKS = {"ok": "[green]ok[/green]  ", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}


@app.command("check")
def check_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (a stable format).")] = False,
) -> None:
    """Check that everything needed to export is in place; exit 1 if anything fails."""
    results = run_checks(load_settings())
    if as_json:
        print_json([asdict(result) for result in results])
    else:
        for result in results:
            line = f"{MARKS[result.status]} {result.name}: {result.detail}"
            say(line, markup=True)  # wrapped at spaces: paths and URLs stay whole
    if any(result.status == "fail" for result in results):
        raise typer.Exit(1)

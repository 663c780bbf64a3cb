"""Commands on the config file's reports and schedules: ``report NAME``, ``schedule list``."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from zenodo_export.cli.app import app
from zenodo_export.cli.context import console, opened_store, print_json, require_token
from zenodo_export.cli.exports import follow_export, print_created, print_final
from zenodo_export.clock import utcnow
from zenodo_export.config_file import load_config_file
from zenodo_export.reports import ReportRun, run_report
from zenodo_export.schedules import Schedule, schedule_state
from zenodo_export.schedules.configured import all_schedules
from zenodo_export.settings import load_settings
from zenodo_export.store import Store

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (a stable format).")]

schedule_app = typer.Typer(help="The schedules of the config file.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")


@app.command("report")
def report_command(
    name: Annotated[str, typer.Argument(help="A report of the config file ([reports.NAME]).")],
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Follow the export to its end (runs it here if no worker is up) "
            "and print its URL and DOI.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run a report now (query or files, README, zip) and queue its export; print its id."""
    settings = load_settings()
    if wait:  # before anything is stored
        require_token(settings, "--wait needs it to run the export here")
    config_file = load_config_file(settings)
    today = dt.datetime.now(ZoneInfo(config_file.schedules.timezone)).date()
    run = ReportRun(name=name, report=config_file.report(name), date=today)
    with opened_store(settings) as store:
        export_id = run_report(store, settings, run)
        if not wait:
            print_created(store, export_id, as_json)
            return
        print_final(follow_export(store, settings, export_id, quiet=as_json), as_json)


def schedule_view(store: Store, schedule: Schedule, now: dt.datetime) -> dict[str, Any]:
    """Return one schedule's JSON-ready state: rule, last period run, next run."""
    with store.transaction() as session:
        state = asdict(schedule_state(session, schedule, now))
    del state["missed"]
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in state.items()}


@schedule_app.command("list")
def schedule_list_command(as_json: JsonFlag = False) -> None:
    """List the schedules: target, rule, last period run, next run."""
    settings = load_settings()
    schedules = all_schedules(load_config_file(settings))
    now = utcnow()
    with opened_store(settings) as store:
        views = [schedule_view(store, schedule, now) for schedule in schedules]
    if as_json:
        print_json(views)
        return
    table = Table("schedule", "rule", "last period", "export", "next run (UTC)")
    for view in views:
        table.add_row(
            view["name"],
            view["rule"],
            view["last_period"] or "never",
            str(view["last_export_id"] or ""),
            view["next_run"][:16],
        )
    console.print(table)

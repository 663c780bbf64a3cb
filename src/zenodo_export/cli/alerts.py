"""Commands on alerts: ``alerts [--all] [--json]`` and ``alerts resolve UUID``."""

from __future__ import annotations

from typing import Annotated

import typer

from zenodo_export.cli.app import app
from zenodo_export.cli.context import console, opened_store, print_json, print_rows
from zenodo_export.exports.views import alert_view
from zenodo_export.settings import load_settings
from zenodo_export.store import list_alerts, resolve_alert

alerts_app = typer.Typer(help="List the alerts of failed exports, or resolve one.")
app.add_typer(alerts_app, name="alerts")


@alerts_app.callback(invoke_without_command=True)
def alerts_command(
    ctx: typer.Context,
    include_resolved: Annotated[bool, typer.Option("--all", help="Include resolved ones.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (a stable format).")] = False,
) -> None:
    """List unresolved alerts, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings()
    with opened_store(settings) as store, store.transaction() as session:
        views = [alert_view(a) for a in list_alerts(session, include_resolved=include_resolved)]
    if as_json:
        print_json(views)
        return
    kept = {
        "uuid": [view["uuid"] for view in views],
        "export": [str(view["export_id"] or "") for view in views],
        "level": [view["level"] for view in views],
        "created": [str(view["created_at"])[:16].replace("T", " ") for view in views],
    }
    errors = [f"{view['class_name']}: {view['message']}" for view in views]
    print_rows(kept, {"error": errors})


@alerts_app.command("resolve")
def resolve_command(uuid: Annotated[str, typer.Argument(help="The alert's uuid.")]) -> None:
    """Mark an alert resolved."""
    settings = load_settings()
    with opened_store(settings) as store, store.transaction() as session:
        resolve_alert(session, uuid)
    console.print(f"alert {uuid} resolved")

"""The ``demo`` command: a complete export, published to the LOCAL sandbox, in one command."""

from __future__ import annotations

import csv
import datetime as dt
import socket
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr

from zenodo_export import defaults
from zenodo_export.cli.app import app
from zenodo_export.cli.context import opened_store, say
from zenodo_export.cli.exports import ExportFailed, follow_export
from zenodo_export.exports.service import create_and_queue
from zenodo_export.filestore import files_store
from zenodo_export.settings import load_settings


def free_port(preferred: int) -> int:
    """Return ``preferred`` if it is free on localhost, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind((defaults.SANDBOX_HOST, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port on localhost")


def write_demo_report(folder: Path, day: dt.date) -> list[Path]:
    """Write a small monthly report (a CSV and a README) like Lagotto's, and return the files."""
    folder.mkdir(parents=True, exist_ok=True)
    stats = folder / "alm_stats.csv"
    with stats.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["pid", "title", "publication_date", "views", "citations"])
        for n in range(1, 101):
            writer.writerow(
                [
                    f"10.1371/journal.pone.{n:07d}",
                    f"Article {n}",
                    (day - dt.timedelta(days=n)).isoformat(),
                    n * 37,
                    n % 7,
                ]
            )
    readme = folder / "README.txt"
    readme.write_text(
        f"Demo report made by zenodo-export on {day.isoformat()}.\n"
        "alm_stats.csv: cumulative views and citations per article (made-up numbers).\n"
    )
    return [stats, readme]


@app.command("demo")
def demo_command(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port for the local sandbox, if free.")
    ] = (defaults.SANDBOX_PORT),
) -> None:
    """Export a demo report end to end to a local Zenodo sandbox (nothing leaves this machine)."""
    from zenodo_export.sandbox import build_config, run_in_thread

    settings = load_settings()
    today = dt.date.today()
    files = write_demo_report(settings.data_dir / "demo" / f"report_{today.isoformat()}", today)
    sandbox_config = build_config(settings.data_dir / "sandbox")
    with run_in_thread(sandbox_config, port=free_port(port)) as sandbox:
        say(
            f"Started a local Zenodo sandbox at {sandbox.api_url} "
            "(a stand-in for Zenodo on this machine; nothing is sent to zenodo.org)."
        )
        local = settings.model_copy(
            update={"zenodo_url": sandbox.api_url, "zenodo_token": SecretStr(sandbox.token)}
        )
        with opened_store(local) as store:
            export_id = create_and_queue(
                store,
                staging=files_store(local),
                name="demo_monthly_report",
                files=[str(path) for path in files],
                publication_date=today.isoformat(),
                title=f"Cumulative Demo Report - {today:%B %Y}",
                description="Cumulative demo statistics for all works, made by zenodo-export.",
                creators=[settings.creator or "Demo, Creator"],
                keywords=["demo", "zenodo-export"],
                code_repository_url=settings.github_url or "https://example.org/zenodo-export",
            )
            final = follow_export(store, local, export_id, quiet=False)
            if final.state != "done":
                raise ExportFailed(f"export {export_id} failed: {final.last_error}")
            say(
                f"\nPublished export {export_id} to the LOCAL SANDBOX (not Zenodo):\n"
                f"  URL: {final.url}\n  DOI: {final.doi} (a sandbox DOI: it does not "
                f"resolve)\n  database: {store.url_for_display}"
            )
    say(
        "\nThe sandbox has stopped; `zenodo-export sandbox` serves it again.\n"
        "See this export in the dashboard: `zenodo-export token create me --role admin` "
        "prints a token; `zenodo-export serve` then serves http://127.0.0.1:8000/, where you "
        "sign in with it.\n"
        "To archive to Zenodo for real, set ZENODO_URL (https://zenodo.org/api/ or "
        "https://sandbox.zenodo.org/api/) and ZENODO_TOKEN, then run "
        "`zenodo-export export FILE... --wait` (see --help)."
    )

"""``serve``: the dashboard, the HTTP API and metrics, on the workers' settings and database."""

from __future__ import annotations

from typing import Annotated

import typer

from zenodo_export.cli.app import app
from zenodo_export.cli.context import opened_store
from zenodo_export.logs import configure_logging, secrets_of
from zenodo_export.settings import load_settings


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")
    ] = 8000,
) -> None:
    """Serve the dashboard (/), the API (/api/v1, docs at /api/docs) and /metrics.

    Any number of serve processes may run beside the workers. Listening beyond loopback needs
    an API token first (`zenodo-export token create NAME --role admin`).
    """
    from zenodo_export.web.server import serve

    settings = load_settings()
    configure_logging(
        level=settings.log_level, fmt=settings.log_format, secrets=secrets_of(settings)
    )

    def announce(base_url: str) -> None:
        typer.echo(f"zenodo-export serving {base_url}/ (API {base_url}/api/v1/, "
                   f"docs {base_url}/api/docs, metrics {base_url}/metrics)")  # fmt: skip

    with opened_store(settings) as store:
        serve(settings, store, host, port, announce=announce)

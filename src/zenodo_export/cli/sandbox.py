"""``zenodo-export sandbox``: serve the Zenodo-compatible sandbox until interrupted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zenodo_export import defaults
from zenodo_export.cli.app import app
from zenodo_export.settings import load_settings

HELP = "Serve a Zenodo-compatible sandbox (legacy deposit API, records, fault injection)."


@app.command("sandbox", help=HELP)
def sandbox_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = defaults.SANDBOX_HOST,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")
    ] = defaults.SANDBOX_PORT,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where state is kept (default: <data dir>/sandbox)."),
    ] = None,
    token: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TOKEN", help="Token to accept: TOKEN or TOKEN:SCOPE,SCOPE (repeatable)."
        ),
    ] = None,
    rate_limit: Annotated[
        list[str] | None,
        typer.Option(
            metavar="N/PERIOD",
            help="Requests per window per token, e.g. 100/minute; off (repeatable).",
        ),
    ] = None,
    max_files: Annotated[int | None, typer.Option(help="Files per record (default 100).")] = None,
    max_file_bytes: Annotated[
        str | None,
        typer.Option(metavar="SIZE", help="Bytes per file, e.g. 50G or 10MiB (default 50G)."),
    ] = None,
    max_record_bytes: Annotated[
        str | None, typer.Option(metavar="SIZE", help="Bytes per record, e.g. 50G (default 50G).")
    ] = None,
    multipart_max_bytes: Annotated[
        str | None,
        typer.Option(metavar="SIZE", help="Size cap of the old multipart upload (default 100M)."),
    ] = None,
    list_lag: Annotated[
        float | None,
        typer.Option(help="Seconds before a new deposition shows up in the list (default 0)."),
    ] = None,
    body_idle_timeout: Annotated[
        float | None,
        typer.Option(help="Seconds of upload silence before answering 400 (default 30)."),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            metavar="RULE", help="Fault rule 'METHOD PATH_REGEX ACTION key=value...' (repeatable)."
        ),
    ] = None,
    bucket_delete_ok: Annotated[
        bool,
        typer.Option(help="Answer 204 to a bucket file DELETE instead of Zenodo's 500."),
    ] = False,
    max_json_bytes: Annotated[
        str | None,
        typer.Option(metavar="SIZE", help="Size cap of a JSON request body (default 1MiB)."),
    ] = None,
    admin_token: Annotated[
        str | None,
        typer.Option(
            metavar="TOKEN",
            envvar="ZENODO_EXPORT_SANDBOX_ADMIN_TOKEN",
            show_envvar=True,
            help="Require 'Authorization: Bearer TOKEN' on the /_sandbox/ endpoints but health.",
        ),
    ] = None,
    access_log: Annotated[
        bool, typer.Option(help="Log every request (access_token values shown as ***).")
    ] = True,
) -> None:
    """Serve the sandbox; print its URL, tokens and how to point zenodo-export at it."""
    from zenodo_export.sandbox import build_config, serve
    from zenodo_export.sandbox.defaults import DATA_SUBDIR

    options: dict[str, object] = {
        "tokens": token or [defaults.SANDBOX_TOKEN],
        "faults": fault or [],
        "bucket_delete_500": not bucket_delete_ok,
        "access_log": access_log,
        "admin_token": admin_token,
    }
    given = {
        "rate_limits": rate_limit,
        "max_files": max_files,
        "max_file_bytes": max_file_bytes,
        "max_record_bytes": max_record_bytes,
        "multipart_max_bytes": multipart_max_bytes,
        "list_lag_seconds": list_lag,
        "body_idle_timeout": body_idle_timeout,
        "max_json_bytes": max_json_bytes,
    }
    options |= {name: value for name, value in given.items() if value is not None}
    directory = data_dir or load_settings().data_dir / DATA_SUBDIR
    sandbox_config = build_config(directory, **options)

    def announce(base_url: str) -> None:
        api_url = f"{base_url}/api/"
        typer.echo(f"Zenodo sandbox serving {api_url}")
        for spec in sandbox_config.tokens:
            typer.echo(f"Token: {spec.describe()}")
        typer.echo(f"Data dir: {sandbox_config.data_dir}")
        guard = " (admin token required)" if sandbox_config.admin_token else ""
        typer.echo(f"Admin (faults, settings, stats): {base_url}/_sandbox/{guard}")
        token = sandbox_config.tokens[0].token
        typer.echo(f"Point zenodo-export at it: ZENODO_URL={api_url} ZENODO_TOKEN={token}")

    def warn(line: str) -> None:
        typer.echo(line, err=True)

    serve(sandbox_config, host, port, announce=announce, warn=warn)

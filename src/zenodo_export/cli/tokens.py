"""``token create|list|revoke``: the tokens of the web API and dashboard; ``migrate``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from zenodo_export.cli.app import app
from zenodo_export.cli.context import console, opened_store, print_json, say, whole
from zenodo_export.settings import load_settings
from zenodo_export.store.tokens import create_token, list_tokens, revoke_token

token_app = typer.Typer(help="Tokens of the web API and dashboard (serve).", no_args_is_help=True)
app.add_typer(token_app, name="token")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (a stable format).")]


@token_app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="A label: who or what uses the token.")],
    role: Annotated[
        Literal["viewer", "admin"],
        typer.Option(help="viewer: sees everything; admin: also acts."),
    ] = "viewer",
) -> None:
    """Make a token and print it once: it is kept only as a digest, and cannot be shown again."""
    settings = load_settings()
    with opened_store(settings) as store, store.transaction() as session:
        token = create_token(session, name, role)
    console.print(token, highlight=False)
    say(
        f"token {name!r} ({role}) made: keep it now, it is not shown again "
        f"(`zenodo-export token revoke {name}` ends it)",
        err=True,
    )


@token_app.command("list")
def list_command(as_json: JsonFlag = False) -> None:
    """List the tokens: name, role, made, last used (never the tokens themselves)."""
    settings = load_settings()
    with opened_store(settings) as store, store.transaction() as session:
        rows: list[dict[str, Any]] = [
            {
                "name": row.name,
                "role": row.role,
                "created_at": row.created_at.isoformat(),
                "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
            }
            for row in list_tokens(session)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(whole("name", [row["name"] for row in rows]), "role", "created", "last used")
    for row in rows:
        made, used = row["created_at"], row["last_used_at"]
        table.add_row(row["name"], row["role"], made[:16], used[:16] if used else "never")
    console.print(table)


@token_app.command("revoke")
def revoke_command(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Delete a token: API calls and dashboard sessions made with it are refused at once."""
    settings = load_settings()
    with opened_store(settings) as store, store.transaction() as session:
        revoke_token(session, name)
    console.print(f"token {name!r} revoked", highlight=False)


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database to the newest schema (every other command also does it, once)."""
    settings = load_settings()
    with opened_store(settings, migrate=False) as store:
        was = store.is_migrated()
        store.migrate()
    say(f"{store.url_for_display} {'was already' if was else 'is now'} at the newest schema")

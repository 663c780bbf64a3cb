"""``edit``: change a queued export's metadata before it reaches Zenodo."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from zenodo_export.cli.app import app
from zenodo_export.cli.context import console, opened_store
from zenodo_export.cli.exports import FLAGS
from zenodo_export.errors import InvalidExport
from zenodo_export.exports.edit import edit_export
from zenodo_export.settings import load_settings


@app.command("edit")
def edit_command(
    export_id: Annotated[int, typer.Argument(help="The export's id.")],
    title: Annotated[str | None, typer.Option(help="A new title.")] = None,
    description: Annotated[str | None, typer.Option(help="A new description.")] = None,
    keyword: Annotated[
        list[str] | None, typer.Option(help="Keywords, repeatable: replace them all.")
    ] = None,
    creator: Annotated[
        list[str] | None, typer.Option(help="Creators, repeatable: replace them all.")
    ] = None,
    publication_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    code_repository_url: Annotated[str | None, typer.Option(help="Code that made it.")] = None,
    license: Annotated[str | None, typer.Option(help="License id.")] = None,
    version: Annotated[str | None, typer.Option(help="Version string of the record.")] = None,
    community: Annotated[
        list[str] | None, typer.Option(help="Communities, repeatable: replace them all.")
    ] = None,
) -> None:
    """Change a queued export's metadata (not its name or files) before it reaches Zenodo.

    Refused, saying why, once a worker has made its draft or published it.
    """
    given = {
        "title": title,
        "description": description,
        "keywords": keyword,
        "creators": creator,
        "publication_date": publication_date,
        "code_repository_url": code_repository_url,
        "license": license,
        "version": version,
        "communities": community,
    }
    changes: dict[str, Any] = {key: value for key, value in given.items() if value is not None}
    if not changes:
        raise typer.BadParameter("give at least one option to change, e.g. --title")
    settings = load_settings()
    with opened_store(settings) as store:
        try:
            changed = edit_export(store, export_id, changes)
        except InvalidExport as exc:
            raise InvalidExport(FLAGS.get(exc.field, exc.field), exc.message) from None
    what = ", ".join(FLAGS[key].split(" ")[0] for key in changed) or "nothing (same values)"
    console.print(f"export {export_id} edited: {what}", highlight=False)

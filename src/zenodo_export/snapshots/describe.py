"""The words of a finished snapshot: its README, and the record it becomes on Zenodo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from zenodo_export.snapshots.options import SnapshotOptions
from zenodo_export.snapshots.secrets import public_url


def title_of(options: SnapshotOptions) -> str:
    """Return Lagotto's title: ``API Snapshot of <url> on <date>``.

    Every URL here is ``public_url``'s: a URL with a credential is refused when a snapshot is
    created, but one stored before that rule is still published without it.
    """
    return f"API Snapshot of {public_url(options.url)} on {options.date}"


def description_of(options: SnapshotOptions, pages: int) -> str:
    """Return the record's description, as Lagotto worded it, with the page count."""
    return (
        f"This is an API snapshot of {public_url(options.url)} taken on {options.date}: "
        f"{pages} page(s) of its JSON responses, one JSON document per line, in page order."
    )


def readme_of(options: SnapshotOptions, pages: int) -> str:
    """Return the README that goes into the zip, describing its files."""
    dump, url = options.dump_path.name, public_url(options.url)
    return (
        f"# {title_of(options)}\n\n"
        f"{description_of(options, pages)}\n\n"
        "## Files\n\n"
        f"- `{dump}`: one line per page of {url} (the `page` query parameter or the\n"
        "  API's next links were followed), each line the page's complete JSON response\n"
        "  body, re-serialised without line breaks. Read it line by line, e.g.\n"
        f"  `for line in open('{dump}'): page = json.loads(line)`.\n"
        "- `README.md`: this file.\n"
    )


def upload_attributes(options: SnapshotOptions, zip_path: Path, pages: int) -> dict[str, Any]:
    """Return the attributes of the ZenodoDataExport that archives the zip.

    Its name is the snapshot's, so snapshots of one endpoint become versions of one record.
    """
    host = urlsplit(options.url).hostname or ""
    return {
        "name": options.name,
        "files": [str(zip_path)],
        "publication_date": dt.date.fromisoformat(options.date),
        "title": title_of(options),
        "description": description_of(options, pages),
        "creators": list(options.creators),
        "keywords": ["api snapshot", host] if host else ["api snapshot"],
        "code_repository_url": options.code_repository_url,
    }

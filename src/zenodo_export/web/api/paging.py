"""What every list takes and gives: keyset cursors, text filters, the URLs of the pages around.

Pages are cut by id (``store/browse.py``): ``before`` gives the page of rows older than a
cursor, ``after`` the page newer than it, ``oldest=true`` the last page. ``next`` and
``previous`` are the same request with the cursor of the page around, so a client follows
them without knowing any of this.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Query, Request

from zenodo_export.errors import InvalidExport
from zenodo_export.store.browse import MAX_PAGE, Page
from zenodo_export.web.api.models import MAX_ID

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Rows per page (at most {MAX_PAGE}).")]
Before = Annotated[
    int | None, Query(ge=0, le=MAX_ID, description="Rows older than this id (the next page).")
]
After = Annotated[
    int | None, Query(ge=0, le=MAX_ID, description="Rows newer than this id (the previous page).")
]
Oldest = Annotated[bool, Query(description="The last page: the oldest rows.")]
Text = Annotated[str | None, Query(max_length=200)]
"""A free-text filter (a name, a host, words to search for)."""

CURSORS = ("before", "after", "oldest")


def text(value: str | None, field: str) -> str | None:
    """Return a text filter as given; refuse a NUL character (no database stores one)."""
    if value is not None and "\x00" in value:
        raise InvalidExport(field, "must not hold a NUL character")
    return value or None


def moment(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """Return a time filter in UTC (one without a time zone is UTC already)."""
    if value is None:
        return None
    try:
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    except OverflowError:
        raise InvalidExport(field, f"{value.isoformat()} is out of range") from None


def links(request: Request, page: Page[Any]) -> tuple[str | None, str | None]:
    """Return the URLs (path and query) of the next (older) and previous (newer) pages."""
    base = request.url.remove_query_params(list(CURSORS))

    def at(**cursor: int) -> str:
        url = base.include_query_params(**cursor)
        return f"{url.path}?{url.query}"

    older = at(before=page.older) if page.older is not None else None
    newer = at(after=page.newer) if page.newer is not None else None
    return older, newer

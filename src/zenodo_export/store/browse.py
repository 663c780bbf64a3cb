"""Pages of exports and alerts for people and the API: filters, text search, keyset pages.

Pages are cut by id (newest first), never by offset, so a page is as fast at the end of a
million rows as at the start and a row added meanwhile never shifts what the next page shows.
A ``Page`` carries the cursors of its neighbours: ``older`` (ids below its last row) and
``newer`` (ids above its first row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from zenodo_export.store.models import Alert, DataExport, ExportState

Row = TypeVar("Row", DataExport, Alert)

MAX_PAGE = 1000
"""The largest page anyone may ask for."""


@dataclass(frozen=True)
class ExportFilter:
    """Which exports to show; every field is optional."""

    state: ExportState | None = None
    name: str | None = None
    type: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    text: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The SQL conditions of this filter."""
        found: list[ColumnElement[bool]] = []
        if self.state is not None:
            found.append(DataExport.state == self.state)
        if self.name:
            found.append(DataExport.name == self.name)
        if self.type:
            found.append(DataExport.type == self.type)
        if self.created_from is not None:
            found.append(DataExport.created_at >= self.created_from)
        if self.created_to is not None:
            found.append(DataExport.created_at < self.created_to)
        if self.text and self.text.strip():
            words = self.text.strip()[:200]
            found.append(
                or_(
                    DataExport.name.icontains(words, autoescape=True),
                    DataExport.doi.icontains(words, autoescape=True),
                    DataExport.url.icontains(words, autoescape=True),
                    DataExport.data["title"].as_string().icontains(words, autoescape=True),
                )
            )
        return found


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts to show: unresolved by default."""

    resolved: bool | None = False
    class_name: str | None = None
    level: str | None = None
    hostname: str | None = None
    export_id: int | None = None
    text: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The SQL conditions of this filter."""
        found: list[ColumnElement[bool]] = []
        if self.resolved is not None:
            found.append(Alert.resolved.is_(self.resolved))
        for column, value in (
            (Alert.class_name, self.class_name),
            (Alert.level, self.level),
            (Alert.hostname, self.hostname),
            (Alert.export_id, self.export_id),
        ):
            if value is not None and value != "":
                found.append(column == value)
        if self.text and self.text.strip():
            found.append(Alert.message.icontains(self.text.strip()[:200], autoescape=True))
        return found


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of rows, newest first, and the cursors of the pages around it."""

    rows: Sequence[Row]
    older: int | None
    """Pass as ``before`` for the next (older) page; None on the last page."""
    newer: int | None
    """Pass as ``after`` for the previous (newer) page; None on the first page."""


def _page(
    session: Session,
    model: type[Row],
    conditions: list[ColumnElement[bool]],
    *,
    limit: int,
    before: int | None,
    after: int | None,
    oldest: bool,
) -> Page[Row]:
    limit = max(1, min(limit, MAX_PAGE))
    key = model.id
    statement = select(model).where(*conditions)
    if before is not None:
        statement = statement.where(key < before)
    if after is not None:
        statement = statement.where(key > after)
    ascending = after is not None or oldest
    statement = statement.order_by(key.asc() if ascending else key.desc()).limit(limit + 1)
    rows: list[Row] = list(session.scalars(statement).all())
    more = len(rows) > limit  # another page lies beyond, in the direction read
    rows = rows[:limit]
    if ascending:
        rows.reverse()
    if not rows:
        return Page(rows, None, None)
    first, last = rows[0].id, rows[-1].id
    if ascending:
        older = last if _exists(session, model, conditions, key < last) else None
        newer = first if more else None
    else:
        older = last if more else None
        newer = (
            first
            if before is not None and _exists(session, model, conditions, key > first)
            else None
        )
    return Page(rows, older, newer)


def _exists(
    session: Session,
    model: type[Row],
    conditions: list[ColumnElement[bool]],
    where: ColumnElement[bool],
) -> bool:
    statement = select(model.id).where(*conditions, where).limit(1)
    return session.scalar(statement) is not None


def export_page(
    session: Session,
    which: ExportFilter = ExportFilter(),
    *,
    limit: int = 50,
    before: int | None = None,
    after: int | None = None,
    oldest: bool = False,
) -> Page[DataExport]:
    """One page of exports matching ``which``: newest first, or the page ``before`` or
    ``after`` a cursor, or the ``oldest`` page (the last one)."""
    return _page(
        session, DataExport, which.conditions(), limit=limit, before=before, after=after,
        oldest=oldest,
    )  # fmt: skip


def count_matching(session: Session, which: ExportFilter = ExportFilter()) -> int:
    """Count the exports matching ``which``."""
    statement = select(func.count(DataExport.id)).where(*which.conditions())
    return int(session.scalar(statement) or 0)


def alert_page(
    session: Session,
    which: AlertFilter = AlertFilter(),
    *,
    limit: int = 50,
    before: int | None = None,
    after: int | None = None,
    oldest: bool = False,
) -> Page[Alert]:
    """One page of alerts matching ``which``, as ``export_page`` does for exports."""
    return _page(
        session, Alert, which.conditions(), limit=limit, before=before, after=after,
        oldest=oldest,
    )  # fmt: skip


@dataclass(frozen=True)
class AlertGroup:
    """Unresolved alerts of one class and message, as Lagotto's admin page grouped them."""

    class_name: str
    message: str
    count: int
    latest_at: dt.datetime


def alert_groups(
    session: Session, which: AlertFilter = AlertFilter(), *, limit: int = 100
) -> list[AlertGroup]:
    """Alerts grouped by class and message, the most recent group first."""
    latest = func.max(Alert.created_at).label("latest_at")
    statement = (
        select(Alert.class_name, Alert.message, func.count(Alert.id), latest)
        .where(*which.conditions())
        .group_by(Alert.class_name, Alert.message)
        .order_by(latest.desc())
        .limit(limit)
    )
    return [AlertGroup(*row) for row in session.execute(statement).all()]

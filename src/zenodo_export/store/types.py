"""Portable column types: aware UTC timestamps and JSON that is JSONB on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ColumnElement, DateTime, Dialect, func, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.types import TypeDecorator, TypeEngine

from zenodo_export.clock import utcnow

UTC = dt.UTC

__all__ = ["JSON_TYPE", "MUTABLE_JSON", "UTC", "UTCDateTime", "db_time", "utcnow"]

JSON_TYPE: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")
"""JSON everywhere, JSONB on PostgreSQL."""

MUTABLE_JSON: TypeEngine[Any] = MutableDict.as_mutable(JSON_TYPE)
"""A JSON object column whose top-level changes (``d[k] = v``, ``del d[k]``) are detected.

Changes inside nested values are not: reassign the top-level key (``d[k] = {...}``).
"""


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    SQLite has no time zones: values are stored as naive UTC text, so that comparing them
    in SQL orders them correctly. Naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Convert to UTC; naive on SQLite."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def db_time(dialect: str, *, plus: float = 0.0) -> ColumnElement[dt.datetime]:
    """Return SQL for the database's time now, plus ``plus`` seconds, as a UTC timestamp.

    Leases and due times are compared by the database, so they are computed by it too: a
    worker whose own clock is wrong can then neither steal a live lease nor run a job early.
    PostgreSQL answers ``clock_timestamp()`` (the time now, not the transaction's start);
    SQLite its own ``'now'``, in the text form our timestamps are stored in.
    """
    expression: ColumnElement[Any]
    if dialect == "postgresql":
        expression = func.clock_timestamp() + func.make_interval(0, 0, 0, 0, 0, 0, float(plus))
    else:
        # strftime's %f has milliseconds; three more digits make the stored microsecond form.
        expression = func.strftime(
            "%Y-%m-%d %H:%M:%f", "now", f"{float(plus):+.3f} seconds"
        ).concat("000")
    return type_coerce(expression, UTCDateTime())

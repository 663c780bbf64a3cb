"""Portable column types: aware UTC timestamps and JSON that is JSONB on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.types import TypeDecorator, TypeEngine

UTC = dt.UTC

JSON_TYPE: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")
"""JSON everywhere, JSONB on PostgreSQL."""

MUTABLE_JSON: TypeEngine[Any] = MutableDict.as_mutable(JSON_TYPE)
"""A JSON object column whose top-level changes (``d[k] = v``, ``del d[k]``) are detected.

Changes inside nested values are not: reassign the top-level key (``d[k] = {...}``).
"""


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(UTC)


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

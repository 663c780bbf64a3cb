"""Run a report's SQL query against its own database and stream the rows into a CSV file.

This module is the one boundary for errors of a report's database: it cannot be reached ->
``Transient`` (the report job is retried), the query fails -> ``Rejected``, a URL that cannot
be used -> ``ConfigError``; every message names the report. Rows are fetched in batches
(a server-side cursor on PostgreSQL) so that memory stays flat whatever the result's size.

A report's SQL is read only, whoever wrote it: on PostgreSQL it runs in a ``READ ONLY``
transaction with a ``statement_timeout``; a SQLite file is opened ``mode=ro`` with
``PRAGMA query_only`` and no room for ``ATTACH`` (which ``VACUUM INTO`` uses too), and a query
running past its timeout is interrupted. Other backends are refused: we could not promise it.
"""

from __future__ import annotations

import csv
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from zenodo_export import defaults
from zenodo_export.errors import ConfigError, Rejected, Transient
from zenodo_export.localfiles import atomic_writer
from zenodo_export.redact import scrub

BATCH_ROWS = 1000
"""Rows fetched from the database per round trip."""

CONNECT_TIMEOUT = 10
"""Seconds to wait for a report's PostgreSQL server."""

SQLITE_PROGRESS_STEPS = 10_000
"""SQLite virtual-machine steps between two looks at a query's deadline."""

_DRIVERS = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg"}
_BACKENDS = ("postgresql", "sqlite")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def report_url(report: str, raw: str) -> URL:
    """Parse a report's database URL, picking psycopg for PostgreSQL."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise ConfigError(f"report {report}: database_url cannot be parsed") from None
    url = url.set(drivername=_DRIVERS.get(url.drivername, url.drivername))
    if url.get_backend_name() not in _BACKENDS:
        raise ConfigError(
            f"report {report}: database_url: {url.get_backend_name()} is not supported "
            "(postgresql or sqlite, which can run a report read only)"
        )
    if url.get_backend_name() == "sqlite" and not Path(str(url.database or "")).is_file():
        raise Rejected(f"report {report}: SQLite database {url.database!r} does not exist")
    return url


def read_only_sqlite(path: str, *, timeout_seconds: float) -> sqlite3.Connection:
    """Open a SQLite file that no statement can change, attach to, or copy out of.

    ``mode=ro`` alone still lets ``ATTACH`` and ``VACUUM INTO`` create files; no attached
    database at all stops both. A statement still running after ``timeout_seconds`` (counted
    from now) is interrupted.
    """
    connection = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, check_same_thread=False)
    connection.execute("PRAGMA query_only = ON")
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    deadline = time.monotonic() + timeout_seconds
    connection.set_progress_handler(lambda: time.monotonic() > deadline, SQLITE_PROGRESS_STEPS)
    return connection


def _engine(report: str, url: URL, timeout_seconds: float) -> Engine:
    try:
        if url.get_backend_name() == "sqlite":
            path = str(url.database)
            return create_engine(
                "sqlite://",
                creator=lambda: read_only_sqlite(path, timeout_seconds=timeout_seconds),
            )
        return create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT})
    except (NoSuchModuleError, ArgumentError) as exc:
        raise ConfigError(f"report {report}: database_url: {_first_line(exc)}") from None


def _read_only(connection: Connection, timeout_seconds: float) -> None:
    """Make the connection's transaction read only and bounded in time (PostgreSQL)."""
    if connection.dialect.name != "postgresql":
        return
    milliseconds = max(1, round(timeout_seconds * 1000))
    connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")


@contextmanager
def connected(
    report: str, raw_url: str, *, timeout_seconds: float = defaults.REPORT_TIMEOUT_SECONDS
) -> Iterator[Connection]:
    """Yield a read-only connection to a report's database, in a read-only transaction.

    Errors are translated and name the report; the password is never shown.
    """
    url = report_url(report, raw_url)
    engine = _engine(report, url, timeout_seconds)
    hide = _scrubber(url)
    try:
        try:
            connection = engine.connect()
        except SQLAlchemyError as exc:
            raise Transient(f"report {report}: database unavailable: {hide(exc)}") from exc
        with connection, _query_errors(report, hide):
            _read_only(connection, timeout_seconds)
            yield connection
    finally:
        engine.dispose()


def _scrubber(url: URL) -> Callable[[BaseException], str]:
    secrets = [str(url.password)] if url.password else []
    return lambda exc: scrub(_first_line(exc), secrets)


@contextmanager
def _query_errors(report: str, hide: Callable[[BaseException], str]) -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise Transient(f"report {report}: database connection lost: {hide(exc)}") from exc
        raise Rejected(f"report {report}: query failed: {hide(exc)}") from exc
    except SQLAlchemyError as exc:
        raise Rejected(f"report {report}: query failed: {hide(exc)}") from exc


def ping(report: str, raw_url: str) -> None:
    """Connect to a report's database and hang up; raise as a run would."""
    with connected(report, raw_url):
        pass


def prepare(
    report: str,
    raw_url: str,
    query: str,
    *,
    timeout_seconds: float = defaults.REPORT_TIMEOUT_SECONDS,
) -> None:
    """Have the database plan ``query`` without running it (``EXPLAIN``), read only; raise as
    a run would (``Rejected`` naming the report for SQL that does not work)."""
    with connected(report, raw_url, timeout_seconds=timeout_seconds) as connection:
        connection.exec_driver_sql(_literal_percents(connection, f"EXPLAIN {query}")).fetchall()


def query_to_csv(
    report: str,
    raw_url: str,
    query: str,
    path: Path,
    *,
    timeout_seconds: float = defaults.REPORT_TIMEOUT_SECONDS,
) -> int:
    """Run ``query`` read only and write its header and rows to ``path``; return the row count.

    The file is written atomically (``localfiles.atomic_writer``), so a failed run never
    leaves half a CSV under the name the export uploads, nor a temporary file; a full disk
    or a folder we may not write raises ``LocalIOError`` naming the path.
    """
    return _write_rows(report, raw_url, query, path, timeout_seconds)


def _literal_percents(connection: Connection, query: str) -> str:
    """Escape ``%`` for drivers whose placeholders are ``%s`` (psycopg): the SQL is sent as is.

    The query runs as the driver's own SQL, not SQLAlchemy's ``text()``, so that ``:`` in
    literals (``'10:00'``) is never taken for a bind parameter.
    """
    if connection.dialect.paramstyle in ("format", "pyformat"):
        return query.replace("%", "%%")
    return query


def _write_rows(report: str, raw_url: str, query: str, path: Path, timeout_seconds: float) -> int:
    rows = 0
    with connected(report, raw_url, timeout_seconds=timeout_seconds) as connection:
        streaming = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS)
        result = streaming.exec_driver_sql(_literal_percents(connection, query))
        with atomic_writer(path, text=True) as file:
            writer = csv.writer(file)
            writer.writerow(result.keys())
            for batch in result.partitions():
                writer.writerows(batch)
                rows += len(batch)
    return rows

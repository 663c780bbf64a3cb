"""The ``Store``: one engine, transactions, migrations; the one boundary for SQLAlchemy errors.

SQLite is made safe for several writer processes: WAL, a 30 s busy timeout, and every
transaction opened with ``BEGIN IMMEDIATE`` (SQLAlchemy's pysqlite recipe), so a writer waits
for the lock up front instead of failing with "database is locked" half way through.
Migrations run inside one such transaction (SQLite) or under an advisory lock (PostgreSQL),
so several processes may migrate a fresh database at once. A SQLite file we create is 0600
(SQLite gives its ``-wal`` and ``-shm`` files the database file's mode) in a 0700 directory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from zenodo_export.errors import ConfigError, Conflict, DatabaseUnavailable, ZenodoExportError
from zenodo_export.localfiles import create_private_file, make_private_directory, translated
from zenodo_export.redact import mask_url, scrub
from zenodo_export.store.migrations import HEAD

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = "zenodo_export.store:migrations"
"""The Alembic scripts, shipped inside the package."""

SQLITE_BUSY_TIMEOUT = 30.0
"""Seconds a SQLite connection waits for another process's write lock."""

POSTGRES_CONNECT_TIMEOUT = 10
"""Seconds to wait for the PostgreSQL server before the database counts as unavailable."""

MIGRATION_LOCK_KEY = 0x7A65_6E6F_646F
"""PostgreSQL advisory lock key held while migrating ("zenodo" in hex)."""

MISCONFIGURED = re.compile(
    r"database \"[^\"]*\" does not exist|role \"[^\"]*\" does not exist|"
    r"password authentication failed|no pg_hba\.conf entry|unable to open database file"
)
"""Refusals that waiting will not cure: the settings are wrong (``ConfigError``), not the
database away (``DatabaseUnavailable``)."""

NOT_A_DATABASE = re.compile(r"file is not a database|file is encrypted")
"""SQLite opening a file that is not a SQLite database."""

FOREIGN_SCHEMA = re.compile(
    r"table \S+ already exists|relation \S+ already exists|no such column|has no column named|"
    r"column \S+ does not exist|UndefinedColumn"
)
"""Tables of another shape where ours should be: another program's database, not an outage."""

_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def parse_url(raw: str) -> URL:
    """Parse a database URL and pick our driver; ``ConfigError`` when it cannot be used."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise ConfigError(f"DATABASE_URL: cannot parse {mask_url(raw)!r}") from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        supported = "sqlite:///path or postgresql://user@host/db"
        raise ConfigError(f"DATABASE_URL: unsupported driver {url.drivername!r} (use {supported})")
    return url.set(drivername=driver)


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _sqlite_engine(url: URL) -> Engine:
    if _is_memory(url):
        # One connection shared by every thread: a private database for one-off use.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        path = Path(str(url.database)).expanduser()
        try:
            with translated(path):
                make_private_directory(path.parent)
                # Before SQLite opens it, which would create it 0644; an empty file is one.
                create_private_file(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            reason = exc.strerror or type(exc).__name__
            raise ConfigError(f"DATABASE_URL: cannot create {path}: {reason}") from None
        url = url.set(database=str(path))
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Stop pysqlite from emitting its own deferred BEGIN; _on_sqlite_begin emits ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT * 1000)}")
    cursor.execute("PRAGMA journal_mode = WAL")
    # WAL + NORMAL: a killed process loses nothing; only an OS crash may lose the last commits.
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _postgres_engine(url: URL) -> Engine:
    connect_args = (
        {} if "connect_timeout" in url.query else {"connect_timeout": POSTGRES_CONNECT_TIMEOUT}
    )
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Store:
    """The database: build it with ``Store.open(url)``, use it with ``store.transaction()``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Build the engine for ``url`` and, unless told not to, migrate to the newest schema."""
        parsed = parse_url(url)
        is_sqlite = parsed.get_backend_name() == "sqlite"
        store = cls(_sqlite_engine(parsed) if is_sqlite else _postgres_engine(parsed))
        if migrate:
            store.migrate()
        return store

    @property
    def dialect(self) -> str:
        """Return ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def url_for_display(self) -> str:
        """Return the URL with its password masked."""
        return self.engine.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"<Store {self.url_for_display}>"

    @contextmanager
    def translated_errors(self) -> Iterator[None]:
        """Translate SQLAlchemy errors: unavailable -> ``DatabaseUnavailable``, constraint ->
        ``Conflict``."""
        try:
            yield
        except IntegrityError as exc:
            raise Conflict(f"database constraint violated: {self._scrub(exc)}") from exc
        except DBAPIError as exc:
            problem = self._problem(exc)
            if problem is None:
                raise
            raise problem from exc

    def _problem(self, exc: DBAPIError) -> ZenodoExportError | None:
        """Return our error for a database error (None: a bug of ours, raised as it is)."""
        text = str(exc)
        shown = self.url_for_display
        if MISCONFIGURED.search(text):
            return ConfigError(f"DATABASE_URL: {self._scrub(exc)}")
        if NOT_A_DATABASE.search(text):
            return ConfigError(f"DATABASE_URL: {shown} is not a SQLite database file")
        if FOREIGN_SCHEMA.search(text):
            return ConfigError(
                f"DATABASE_URL: {shown} holds tables of another shape ({self._scrub(exc)}); "
                "give zenodo-export a database of its own"
            )
        if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
            return DatabaseUnavailable(f"database unavailable: {self._scrub(exc)}")
        return None

    def _scrub(self, exc: BaseException) -> str:
        password = self.engine.url.password
        return scrub(_first_line(exc), [str(password)] if password else [])

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session that commits on exit and rolls back on error."""
        with self.translated_errors(), self._sessions.begin() as session:
            yield session

    @contextmanager
    def migration_connection(self) -> Iterator[Connection]:
        """Yield a connection in a transaction that no other migrating process can enter."""
        with self.translated_errors(), self.engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
            yield connection

    def alembic_config(self, connection: Connection | None = None) -> Config:
        """Return the Alembic config for the shipped migrations, bound to ``connection``."""
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", SCRIPT_LOCATION)
        config.attributes["connection"] = connection
        return config

    def migrate(self) -> None:
        """Upgrade the schema to the newest migration; a no-op when already there."""
        if self.is_migrated():
            return
        from alembic import command

        with self.migration_connection() as connection:
            command.upgrade(self.alembic_config(connection), "head")

    def current_revisions(self) -> set[str]:
        """Return the revisions the database is at (empty when never migrated)."""
        with self.translated_errors(), self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return set()
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return {str(row[0]) for row in rows}

    def is_migrated(self) -> bool:
        """Say whether the database is at the newest migration."""
        return self.current_revisions() == {HEAD}

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

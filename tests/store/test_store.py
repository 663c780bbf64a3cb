"""The Store: opening, URLs, migrations, transactions and error translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from tests.fixtures.database import require_postgres
from tests.fixtures.exports import Attributes
from tests.store.workers import run_together
from zenodo_export.errors import ConfigError, Conflict, Transient
from zenodo_export.store import Job, Store, ZenodoDataExport
from zenodo_export.store.migrations import HEAD
from zenodo_export.store.models import Base

TABLES = {"alembic_version", *Base.metadata.tables}


def _tables(store: Store) -> set[str]:
    return set(inspect(store.engine).get_table_names())


def test_open_without_migrate_creates_nothing(database_url: str) -> None:
    """A store opened with migrate=False has no tables and says it is not migrated."""
    store = Store.open(database_url, migrate=False)
    try:
        assert _tables(store) == set()
        assert not store.is_migrated()
        store.migrate()
        assert _tables(store) == TABLES
        assert store.is_migrated()
    finally:
        store.dispose()


def test_migrate_twice_is_a_no_op(store: Store) -> None:
    """Migrating a migrated database changes nothing and keeps the data."""
    with store.transaction() as session:
        session.execute(
            text(
                "INSERT INTO alerts (uuid, class_name, message, level, created_at,"
                " resolved) VALUES ('u', 'E', 'm', 'ERROR', '2030-01-01', false)"
            )
        )
    store.migrate()
    with store.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM alerts")).scalar() == 1
        assert session.execute(text("SELECT version_num FROM alembic_version")).all() == [(HEAD,)]


def test_models_and_migrations_agree(store: Store) -> None:
    """After migrating, Alembic's autogenerate finds no difference from the models."""
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_database_refuses_a_second_active_job_per_export(
    store: Store, attributes: Attributes
) -> None:
    """The partial unique index refuses two active jobs per export, but not a finished one."""
    with store.transaction() as session:
        export_id = ZenodoDataExport.create(session, **attributes()).id
        session.add(Job(kind="data_export", export_id=export_id, status="done"))
        session.add(Job(kind="data_export", export_id=export_id, status="queued"))
        session.add(Job(kind="other", export_id=export_id, status="queued"))
    with pytest.raises(Conflict), store.transaction() as session:
        session.add(Job(kind="data_export", export_id=export_id, status="running"))


@pytest.mark.slow
def test_concurrent_migrate_on_a_fresh_database(database_url: str, tmp_path: Path) -> None:
    """Three processes migrating a fresh database at once all succeed and leave one schema."""
    run_together("migrate", database_url, tmp_path / "rendezvous", processes=3)
    store = Store.open(database_url, migrate=False)
    try:
        assert store.is_migrated()
        assert _tables(store) == TABLES
    finally:
        store.dispose()


def test_sqlite_file_is_created_in_a_new_directory(tmp_path: Path) -> None:
    """Opening a SQLite URL in a directory that does not exist creates both, in WAL mode."""
    path = tmp_path / "deep" / "er" / "zenodo-export.db"
    store = Store.open(f"sqlite:///{path}")
    try:
        assert path.is_file()
        assert store.dialect == "sqlite"
        with store.transaction() as session:
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert session.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    finally:
        store.dispose()


def test_plain_postgresql_url_uses_psycopg(postgres_url: str) -> None:
    """A ``postgresql://`` URL is served by psycopg 3 and shown without its password."""
    plain = postgres_url.replace("postgresql+psycopg://postgres@", "postgresql://postgres:pw@")
    store = Store.open(plain, migrate=False)
    try:
        assert store.dialect == "postgresql"
        assert store.engine.url.drivername == "postgresql+psycopg"
        assert "pw" not in store.url_for_display
        assert store.url_for_display.startswith("postgresql+psycopg://postgres:***@")
    finally:
        store.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url at all", "cannot parse"),
        ("mysql://root:hunter2@db/zx", "unsupported driver 'mysql'"),
        ("postgresql+psycopg2://root:hunter2@db/zx", "unsupported driver"),
        ("postgresql://root:hunter2@db:notaport/zx", "cannot parse"),
    ],
)
def test_bad_url_is_a_config_error_without_the_password(url: str, expected: str) -> None:
    """A malformed URL or unknown driver raises one-line ConfigError that hides the password."""
    with pytest.raises(ConfigError) as raised:
        Store.open(url)
    message = str(raised.value)
    assert message.startswith("DATABASE_URL: ")
    assert expected in message
    assert "hunter2" not in message
    assert "\n" not in message


def test_unreachable_server_is_transient() -> None:
    """A PostgreSQL server that does not answer raises Transient, chained, password hidden."""
    require_postgres()
    store = Store.open("postgresql://postgres:hunter2@127.0.0.1:1/zx", migrate=False)
    try:
        with pytest.raises(Transient, match=r"^database unavailable: ") as raised:
            store.migrate()
        assert raised.value.__cause__ is not None
        assert "hunter2" not in str(raised.value)
    finally:
        store.dispose()


def test_transaction_commits_or_rolls_back(store: Store) -> None:
    """A transaction that raises leaves nothing; one that ends normally is committed."""
    insert = text(
        "INSERT INTO jobs (kind, payload, queue, status, attempts, run_at, created_at,"
        " updated_at) VALUES ('k', '{}', 'q', 'queued', 0, :t, :t, :t)"
    )
    moment = {"t": "2030-01-01 00:00:00"}
    with pytest.raises(KeyError), store.transaction() as session:
        session.execute(insert, moment)
        raise KeyError("boom")
    with store.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM jobs")).scalar() == 0
        session.execute(insert, moment)
    with store.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM jobs")).scalar() == 1


def test_constraint_violation_is_a_conflict(store: Store) -> None:
    """A row breaking a constraint raises Conflict at the transaction boundary."""
    bad = text(
        "INSERT INTO alerts (uuid, class_name, message, level, created_at, resolved)"
        " VALUES ('u', 'E', 'm', 'LOUD', '2030-01-01', false)"
    )
    with pytest.raises(Conflict, match=r"^database constraint violated"), store.transaction() as s:
        s.execute(bad)


def test_in_memory_sqlite_works_for_one_off_use() -> None:
    """``sqlite://`` opens one private in-memory database that keeps its schema and rows."""
    store = Store.open("sqlite://")
    try:
        assert store.is_migrated()
        with store.transaction() as session:
            session.add(Job(kind="ping"))
        with store.transaction() as session:
            assert session.query(Job).count() == 1
    finally:
        store.dispose()


def test_sqlite_tilde_is_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``~`` in a SQLite path means the home directory, as in the settings' default."""
    monkeypatch.setenv("HOME", str(tmp_path))
    store = Store.open("sqlite:///~/data/zx.db")
    try:
        assert (tmp_path / "data" / "zx.db").is_file()
    finally:
        store.dispose()


def test_head_constant_matches_alembics_head() -> None:
    """The HEAD shortcut that skips Alembic names the newest shipped migration."""
    from alembic.script import ScriptDirectory

    from zenodo_export.store.db import Store
    from zenodo_export.store.migrations import HEAD

    store = Store.open("sqlite://", migrate=False)
    try:
        assert ScriptDirectory.from_config(store.alembic_config()).get_heads() == [HEAD]
    finally:
        store.dispose()

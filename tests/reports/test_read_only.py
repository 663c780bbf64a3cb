"""A report's SQL is read only and bounded in time, on PostgreSQL and SQLite."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.reports.conftest import create_works, plain_url, write_config
from zenodo_export import defaults
from zenodo_export.config_file import read_config_file
from zenodo_export.errors import ConfigError, Rejected
from zenodo_export.reports.query import query_to_csv

pytestmark = pytest.mark.hostile


def scalar(url: str, sql: str) -> object:
    """Return the one value ``sql`` gives on ``url`` (through a writable connection of ours)."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(sql))
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_nextval_fails_and_the_sequence_does_not_advance(
    postgres_url: str, tmp_path: Path
) -> None:
    """``SELECT nextval(...)`` fails with one line naming the report; the sequence stays put."""
    scalar(postgres_url, "CREATE SEQUENCE counter")
    scalar(postgres_url, "SELECT nextval('counter')")
    with pytest.raises(Rejected, match=r"^report stats: query failed: .*read-only") as caught:
        query_to_csv("stats", postgres_url, "SELECT nextval('counter')", tmp_path / "s.csv")
    assert "\n" not in str(caught.value)
    assert scalar(postgres_url, "SELECT last_value FROM counter") == 1
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT set_config('transaction_read_only', 'off', true), nextval('counter')",
        "SELECT set_config('default_transaction_read_only', 'off', false), nextval('counter')",
    ],
)
def test_postgres_read_only_cannot_be_switched_off(
    postgres_url: str, tmp_path: Path, sql: str
) -> None:
    """A query turning read-only mode off from inside still cannot advance a sequence."""
    scalar(postgres_url, "CREATE SEQUENCE counter")
    with pytest.raises(Rejected, match=r"^report stats: query failed: "):
        query_to_csv("stats", postgres_url, sql, tmp_path / "s.csv")
    assert scalar(postgres_url, "SELECT is_called FROM counter") is False


@pytest.mark.postgres
def test_postgres_query_cannot_lift_its_own_timeout(postgres_url: str, tmp_path: Path) -> None:
    """``set_config('statement_timeout', '0')`` inside the query does not stop the timeout."""
    sql = "SELECT set_config('statement_timeout', '0', true), pg_sleep(30)"
    started = time.monotonic()
    with pytest.raises(Rejected, match="statement timeout"):
        query_to_csv("slow", postgres_url, sql, tmp_path / "s.csv", timeout_seconds=0.5)
    assert time.monotonic() - started < 10


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE stolen AS SELECT 1 AS x",
        "SELECT 1; CREATE TABLE stolen (x int)",
        "WITH gone AS (DELETE FROM works RETURNING id) SELECT count(*) FROM gone",
    ],
)
def test_postgres_writes_fail_and_change_nothing(
    postgres_url: str, tmp_path: Path, sql: str
) -> None:
    """Creating a table or deleting rows fails as a query error; the database is unchanged."""
    create_works(postgres_url)
    with pytest.raises(Rejected, match=r"^report stats: query failed: "):
        query_to_csv("stats", postgres_url, sql, tmp_path / "s.csv")
    assert scalar(postgres_url, "SELECT to_regclass('stolen') IS NULL") is True
    assert scalar(postgres_url, "SELECT count(*) FROM works") == 3


@pytest.mark.postgres
def test_postgres_statement_timeout_stops_a_slow_query(postgres_url: str, tmp_path: Path) -> None:
    """``pg_sleep(30)`` with a 0.5 s timeout is cancelled within seconds, naming the report."""
    started = time.monotonic()
    with pytest.raises(Rejected, match=r"^report slow: query failed: .*statement timeout"):
        query_to_csv(
            "slow", postgres_url, "SELECT pg_sleep(30)", tmp_path / "s.csv", timeout_seconds=0.5
        )
    assert time.monotonic() - started < 10


def test_sqlite_vacuum_into_and_attach_write_nothing(sqlite_url: str, tmp_path: Path) -> None:
    """``VACUUM INTO``, ``ATTACH`` and ``CREATE TABLE`` fail; no file appears, nothing changes."""
    create_works(sqlite_url)
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    before = database.read_bytes()
    copy, attached = tmp_path / "copy.db", tmp_path / "attached.db"
    for sql in (
        f"VACUUM INTO '{copy}'",
        f"ATTACH DATABASE '{attached}' AS other",
        "CREATE TABLE stolen (x)",
        "DELETE FROM works",
    ):
        with pytest.raises(Rejected, match=r"^report stats: query failed: [^\n]+$"):
            query_to_csv("stats", sqlite_url, sql, tmp_path / "s.csv")
    assert not copy.exists() and not attached.exists()
    assert database.read_bytes() == before
    assert scalar(sqlite_url, "SELECT count(*) FROM works") == 3


def test_sqlite_query_only_cannot_be_turned_off(sqlite_url: str, tmp_path: Path) -> None:
    """A query turning ``query_only`` off still runs on a file opened read only."""
    create_works(sqlite_url)
    with pytest.raises(Rejected, match="does not return rows"):
        query_to_csv("stats", sqlite_url, "PRAGMA query_only = OFF", tmp_path / "s.csv")
    with pytest.raises(Rejected, match=r"^report stats: query failed: .*readonly"):
        query_to_csv("stats", sqlite_url, "DELETE FROM works", tmp_path / "s.csv")
    assert scalar(sqlite_url, "SELECT count(*) FROM works") == 3


def test_sqlite_slow_query_is_interrupted(sqlite_url: str, tmp_path: Path) -> None:
    """A query running past its timeout on SQLite is interrupted, naming the report."""
    create_works(sqlite_url)
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"
    started = time.monotonic()
    with pytest.raises(Rejected, match=r"^report slow: query failed: interrupted"):
        query_to_csv("slow", sqlite_url, endless, tmp_path / "s.csv", timeout_seconds=0.3)
    assert time.monotonic() - started < 10


def test_read_only_report_still_reads(database_url: str, tmp_path: Path) -> None:
    """A plain SELECT works on both backends under the read-only rules."""
    create_works(database_url)
    rows = query_to_csv("stats", database_url, "SELECT id FROM works", tmp_path / "s.csv")
    assert rows == 3


def test_timeout_seconds_is_a_per_report_setting(tmp_path: Path) -> None:
    """``timeout_seconds`` defaults to the named default and must be positive."""
    url = plain_url(f"sqlite:///{tmp_path / 'w.db'}")
    body = f"[reports.a]\ndatabase_url = {url!r}\nquery = 'SELECT 1'\n"
    other = f"[reports.b]\ndatabase_url = {url!r}\nquery = 'SELECT 1'\ntimeout_seconds = 2.5\n"
    config = read_config_file(write_config(tmp_path, body + other))
    assert config.report("a").timeout_seconds == defaults.REPORT_TIMEOUT_SECONDS
    assert config.report("b").timeout_seconds == 2.5
    write_config(tmp_path, body + "timeout_seconds = 0\n")
    with pytest.raises(ConfigError, match=r"reports\.a\.timeout_seconds: .*greater than 0"):
        read_config_file(tmp_path / "config.toml")


def test_other_backends_are_refused(tmp_path: Path) -> None:
    """A backend we cannot make read only is a ConfigError naming the report."""
    with pytest.raises(ConfigError, match=r"^report x: database_url: mysql is not supported"):
        query_to_csv("x", "mysql://u@127.0.0.1/db", "SELECT 1", tmp_path / "s.csv")

"""Fixtures for reports and schedules: a Lagotto-like works database, config files, settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.pipeline.conftest import make_settings
from zenodo_export.settings import Settings

WORKS_SCHEMA = (
    "CREATE TABLE works (id INTEGER PRIMARY KEY, pid VARCHAR(255), title VARCHAR(255),"
    " published_on DATE)",
    "CREATE TABLE sources (id INTEGER PRIMARY KEY, name VARCHAR(64))",
    "CREATE TABLE events (id INTEGER PRIMARY KEY, work_id INTEGER, source_id INTEGER,"
    " total INTEGER)",
    "INSERT INTO works VALUES (1, '10.1371/journal.pone.0000001', 'On colons: a study',"
    " '2026-01-05'), (2, '10.1371/journal.pone.0000002', 'Plain, with a comma', '2026-02-07'),"
    " (3, '10.1371/journal.pone.0000003', 'Not seen yet', '2026-03-01')",
    "INSERT INTO sources VALUES (1, 'counter'), (2, 'crossref'), (3, 'mendeley')",
    "INSERT INTO events VALUES (1, 1, 1, 120), (2, 1, 2, 4), (3, 1, 3, 9), (4, 2, 1, 30),"
    " (5, 2, 1, 5), (6, 2, 3, 1)",
)
"""Works, sources and per-source event totals, like Lagotto's tables."""

STATS_QUERY = """
SELECT w.pid AS pid, w.title AS title, w.published_on AS publication_date,
       COALESCE(SUM(CASE WHEN s.name = 'counter' THEN e.total END), 0) AS counter,
       COALESCE(SUM(CASE WHEN s.name = 'crossref' THEN e.total END), 0) AS crossref,
       COALESCE(SUM(CASE WHEN s.name = 'mendeley' THEN e.total END), 0) AS mendeley
FROM works w
LEFT JOIN events e ON e.work_id = w.id
LEFT JOIN sources s ON s.id = e.source_id
WHERE w.title NOT LIKE '%yet%'
GROUP BY w.id, w.pid, w.title, w.published_on
ORDER BY w.id
"""
"""Lagotto's monthly cumulative stats: one row per work, one column per source's total."""

EXPECTED_CSV = (
    "pid,title,publication_date,counter,crossref,mendeley\r\n"
    "10.1371/journal.pone.0000001,On colons: a study,2026-01-05,120,4,9\r\n"
    '10.1371/journal.pone.0000002,"Plain, with a comma",2026-02-07,35,0,1\r\n'
)
"""The CSV the query gives on the data above."""

LAGOTTO = {
    "creator": "Lin, Jennifer",
    "github_url": "https://github.com/lagotto/lagotto",
    "sitenamelong": "PLOS ALM",
}
"""The Lagotto settings a report with the default title needs."""


def create_works(url: str) -> None:
    """Create and fill the works tables in the database at ``url``."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in WORKS_SCHEMA:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def plain_url(url: str) -> str:
    """Return ``url`` without our driver suffix, as a user would write it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def write_config(directory: Path, body: str) -> Path:
    """Write a config file and return its path."""
    path = directory / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return path


def report_config(database_url: str, *, schedule: str | None = None, **extra: str) -> str:
    """Return the TOML of one report, ``stats``, running STATS_QUERY against ``database_url``."""
    lines = [
        "[reports.stats]",
        f"database_url = {plain_url(database_url)!r}",
        f"query = '''{STATS_QUERY}'''",
    ]
    if schedule is not None:
        lines.append(f"schedule = {schedule!r}")
    lines += [f"{key} = {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def report_settings(sandbox: Any, tmp_path: Path, config: Path, **overrides: Any) -> Settings:
    """Settings for report tests: the sandbox, the config file, Lagotto's settings."""
    return make_settings(sandbox, tmp_path, config=config, **{**LAGOTTO, **overrides})


@pytest.fixture
def works_url(database_url: str) -> str:
    """A database (SQLite file or PostgreSQL) holding the works tables; the store's own one."""
    create_works(database_url)
    return database_url

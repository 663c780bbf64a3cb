"""The catalogue of bad inputs in docs/troubleshooting.md, run row by row through the real CLI.

Each row of the doc's table is a command a new user could type, its exit code and a fragment
of the one line it prints on stderr. The table is parsed here and every row is run as a
process, so the doc and the behaviour cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.cli import CLI, one_line_error
from tests.fixtures.environment import clean_environment
from zenodo_export.exports.service import create_and_queue
from zenodo_export.exports.undo import cancel_export
from zenodo_export.store import Store, get_export, transition

DOC = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
"""The troubleshooting page whose table this module keeps true."""

HEADER = "| # | What you did | Command | Exit | The one line says |"
"""The table's header, exactly."""

ROW = re.compile(r"^\| (\d+) \| ([^|]+) \| `([^`]+)` \| (\d) \| `([^`]+)` \|$")
"""One row: number, description, `command`, exit code, `fragment`."""

ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")
"""A setting given before the command, as a shell line does (``NAME=value``)."""

PLACEHOLDERS = {"$ESC": "\x1b", "$TAB": "\t"}
"""Characters the doc cannot show, written as the shell variables its intro names."""

EXIT_CODES = frozenset(range(1, 8))
"""The failing exit codes of the README's table."""


@dataclass(frozen=True)
class Row:
    """One mistake of the catalogue: what the user did, typed, and what they are told."""

    number: int
    description: str
    command: str
    exit_code: int
    fragment: str


def read_rows(text: str) -> list[Row]:
    """Return the rows of the one table under ``HEADER`` in ``text``."""
    lines = text.splitlines()
    start = lines.index(HEADER) + 2  # the header and its |---| line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        match = ROW.match(line)
        assert match is not None, f"a row the test cannot read: {line}"
        number, description, command, exit_code, fragment = match.groups()
        rows.append(Row(int(number), description.strip(), command, int(exit_code), fragment))
    return rows


ROWS = read_rows(DOC.read_text(encoding="utf-8"))


def substitute(text: str, scratch: Path) -> str:
    """Replace the doc's placeholders: ``$TMP`` by the scratch folder, ``$ESC``, ``$TAB``."""
    text = text.replace("$TMP", str(scratch))
    for name, character in PLACEHOLDERS.items():
        text = text.replace(name, character)
    return text


def split_command(command: str, scratch: Path) -> tuple[dict[str, str], list[str]]:
    """Return a row's settings and the arguments after ``zenodo-export``."""
    words = [substitute(word, scratch) for word in shlex.split(command)]
    settings: dict[str, str] = {}
    while words and ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        settings[name] = value
    assert words[:1] == ["zenodo-export"], f"not a zenodo-export command: {command}"
    return settings, words[1:]


REPORT_FILES = "[reports.r]\nfiles = ['a.csv']\n"
"""A report of one file, ``a.csv`` beside the config file: right, until a row adds its mistake."""


def config_files(scratch: Path) -> dict[str, str]:
    """Return the config files the rows name, each holding the one mistake of its row."""
    works = scratch / "works.db"

    def query_report(url: str, query: str) -> str:
        return f"[reports.r]\ndatabase_url = '{url}'\nquery = '{query}'\n"

    return {
        "broken.toml": "[reports.r\nquery = \n",
        "colour.toml": "colour = 'blue'\n",
        "misspelt.toml": REPORT_FILES + "schedul = 'monthly'\n",
        "nodatabase.toml": "[reports.r]\nquery = 'SELECT 1'\n",
        "outside.toml": "[reports.r]\nfiles = ['/etc/passwd']\n",
        "twins.toml": "[reports.r]\nfiles = ['a.csv', 'b/a.csv']\n",
        "fortnightly.toml": REPORT_FILES + "schedule = 'fortnightly'\n",
        "day31.toml": "[schedules]\nmonthly_day = 31\n",
        "snapftp.toml": "[snapshots.s]\nurl = 'ftp://example.org/api/works'\n",
        "files.toml": REPORT_FILES,
        "writes.toml": query_report(f"sqlite:///{works}", "DELETE FROM works"),
        "typo.toml": query_report(f"sqlite:///{works}", "SELEKT id FROM works"),
        "nowhere.toml": query_report(f"sqlite:///{scratch / 'nowhere.db'}", "SELECT 1"),
        "pgdown.toml": query_report("postgresql://reporter@127.0.0.1:1/lagotto", "SELECT 1"),
    }


def new_export(store: Store, kept: Path) -> int:
    """Create and queue one export of ``kept`` (read in place); return its id."""
    return create_and_queue(
        store,
        name="monthly",
        files=[str(kept)],
        title="Monthly report",
        description="All works.",
        creators=["Doe, Jane"],
        keywords=["alm"],
        publication_date=dt.date.today().isoformat(),
        code_repository_url="https://github.com/example/tool",
        license="cc-zero",
        version=None,
        communities=[],
        versioning=None,
    )


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Make, once, databases of zenodo-export holding export 1 published, or cancelled.

    The published one is marked done as a worker would after publishing deposition 123, so
    that no Zenodo is needed.
    """
    folder = tmp_path_factory.mktemp("databases")
    kept = folder / "kept.csv"
    kept.write_text("1\n")
    cancelled = Store.open(f"sqlite:///{folder / 'cancelled.db'}")
    try:
        cancel_export(cancelled, new_export(cancelled, kept))
    finally:
        cancelled.dispose()
    published = Store.open(f"sqlite:///{folder / 'published.db'}")
    try:
        export_id = new_export(published, kept)
        with published.transaction() as session:
            export = get_export(session, export_id)
            transition(export, "start")
            transition(export, "finish")
            export.deposition_id = export.record_id = 123
            export.url = "https://zenodo.org/records/123"
            export.doi = "10.5281/zenodo.123"
    finally:
        published.dispose()
    return folder


@pytest.fixture
def scratch(tmp_path: Path, databases: Path) -> Path:
    """Return ``$TMP``: a folder holding every file the rows point at."""
    folder = tmp_path / "scratch"
    (folder / "b").mkdir(parents=True)
    (folder / "folder").mkdir()
    (folder / "a.csv").write_text("1\n")
    (folder / "b" / "a.csv").write_text("2\n")
    (folder / "empty.csv").write_text("")
    (folder / "notes.txt").write_text("my notes, not a database\n")
    (folder / "tab\t.csv").write_text("3\n")
    with sqlite3.connect(folder / "works.db") as connection:
        connection.execute("CREATE TABLE works (id INTEGER PRIMARY KEY, title TEXT)")
        connection.execute("INSERT INTO works VALUES (1, 'a work')")
    connection.close()
    for name, text in config_files(folder).items():
        (folder / name).write_text(text)
    for name in ("published.db", "cancelled.db"):
        shutil.copyfile(databases / name, folder / name)
    return folder


@pytest.mark.parametrize("row", ROWS, ids=[f"row-{row.number}" for row in ROWS])
def test_each_mistake_gives_its_one_line(row: Row, scratch: Path, tmp_path: Path) -> None:
    """The row's command fails with its exit code and one line holding its fragment."""
    settings, args = split_command(row.command, scratch)
    fresh = {"HOME": str(tmp_path / "home"), "ZENODO_EXPORT_DATA_DIR": str(tmp_path / "data")}
    env = clean_environment(**{**fresh, **settings})  # the row's settings win
    result = subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    one_line_error(result, row.exit_code, substitute(row.fragment, scratch))


def test_the_catalogue_is_large_numbered_and_without_repeats() -> None:
    """At least 60 rows, numbered 1, 2, 3...; no command twice; exit codes of the README."""
    assert len(ROWS) >= 60, len(ROWS)
    assert [row.number for row in ROWS] == list(range(1, len(ROWS) + 1))
    commands = [row.command for row in ROWS]
    assert len(set(commands)) == len(commands), "a command is listed twice"
    assert {row.exit_code for row in ROWS} <= EXIT_CODES

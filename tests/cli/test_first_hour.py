"""What a new user hits in the first hour, through the real CLI: one line, the right exit code.

Each case here was a traceback, a wrong exit code or a silent acceptance before (issue 11).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import CLI, one_line_error
from tests.fixtures.environment import clean_environment

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """Run the CLI with a fresh HOME and ``settings`` on top of a clean environment."""

    def run_cli(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
        env = clean_environment(HOME=str(tmp_path / "home"), **settings)
        return subprocess.run(
            [*CLI, *args], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
        )

    return run_cli


@pytest.mark.parametrize(
    "name,value",
    [
        ("ZENODO_EXPORT_HTTP_TIMEOUT", "-5"),
        ("ZENODO_EXPORT_HTTP_TIMEOUT", "0"),
        ("ZENODO_URL", "zenodo.org/api/"),
        ("ZENODO_URL", "ftp://zenodo.org/api/"),
    ],
)
def test_bad_settings_stop_every_command_at_start(
    name: str, value: str, run: Run, tmp_path: Path
) -> None:
    """A bad value is refused before anything is stored, naming the variable."""
    data = tmp_path / "data"
    one_line_error(run("list", **{name: value, "ZENODO_EXPORT_DATA_DIR": str(data)}), 3, name)
    assert not data.exists(), "nothing is created before the settings are checked"


@pytest.mark.parametrize("command", [["list"], ["demo", "--port", "0"], ["check"]])
def test_a_data_dir_that_is_a_file_is_one_line(
    command: list[str], run: Run, tmp_path: Path
) -> None:
    """``ZENODO_EXPORT_DATA_DIR`` on a file: one line naming it, for every command."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run(*command, ZENODO_EXPORT_DATA_DIR=str(blocker))
    one_line_error(result, 3, "ZENODO_EXPORT_DATA_DIR", f"{blocker} is not a directory")


def test_a_file_that_is_not_a_database_is_one_line(run: Run, tmp_path: Path) -> None:
    """A SQLite URL on a text file is a setting to fix (exit 3), not an outage."""
    path = tmp_path / "notes.db"
    path.write_text("my notes, not a database\n")
    one_line_error(
        run("list", DATABASE_URL=f"sqlite:///{path}"),
        3,
        "DATABASE_URL",
        "is not a SQLite database file",
    )
    assert path.read_text() == "my notes, not a database\n", "the file is left as it was"


def test_a_database_of_another_program_is_one_line(run: Run, tmp_path: Path) -> None:
    """Tables of another shape where ours go: exit 3 naming the table, nothing changed."""
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE data_exports (id INTEGER PRIMARY KEY, other TEXT)")
        connection.execute("INSERT INTO data_exports VALUES (1, 'theirs')")
    line = one_line_error(run("list", DATABASE_URL=f"sqlite:///{path}"), 3, "DATABASE_URL")
    assert "tables of another shape" in line and "data_exports" in line
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT * FROM data_exports").fetchall() == [(1, "theirs")]


def test_check_on_a_fresh_install_warns_and_counts_snapshot_schedules(
    run: Run, tmp_path: Path
) -> None:
    """A newcomer's first ``check`` does not fail for an unmigrated database; schedules of
    snapshots are counted."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[snapshots.works]\nurl = "http://127.0.0.1:9/api/works"\nschedule = "monthly"\n'
    )
    result = run(
        "check",
        ZENODO_EXPORT_DATA_DIR=str(tmp_path / "data"),
        ZENODO_EXPORT_CONFIG=str(config),
        SERVERNAME="example.org",
    )
    said = " ".join(result.stdout.split())  # lines wrap at spaces
    assert "warn" in said and "not migrated yet" in said, said
    assert "1 schedule(s)" in said, said
    assert "FAIL database" not in result.stdout


EXPORT = ["--title", "T", "--description", "D", "--keyword", "k", "--creator", "Doe, Jane",
          "--code-repository-url", "https://github.com/example/tool"]  # fmt: skip


def a_file(tmp_path: Path, name: str, text: str) -> str:
    """Write a small file and return its path."""
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_wait_without_a_token_stores_nothing(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """``export --wait`` with no token stops before queuing (a later worker would publish it)."""
    env = {k: v for k, v in cli_env.items() if k != "ZENODO_TOKEN"}
    path = a_file(tmp_path, "a.csv", "1\n")
    one_line_error(
        run_cli("export", path, "--name", "n", *EXPORT, "--wait", env=env), 3, "ZENODO_TOKEN"
    )
    assert json.loads(run_cli("list", "--json").stdout) == []


def test_wait_runs_the_earlier_version_first_when_no_worker_is_up(
    run_cli: Run, tmp_path: Path
) -> None:
    """An earlier export of the same name is queued and no worker runs: ``--wait`` publishes
    both, in order, instead of waiting forever."""
    first = run_cli("export", a_file(tmp_path, "v1.csv", "1\n"), "--name", "n", *EXPORT)
    assert first.returncode == 0, first.stderr
    second = run_cli(
        "export", a_file(tmp_path, "v2.csv", "2\n"), "--name", "n", *EXPORT, "--wait",
        "--json", timeout=120,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    listed = {e["id"]: e for e in json.loads(run_cli("list", "--json").stdout)}
    assert [e["state"] for e in listed.values()] == ["done", "done"]
    earlier, later = listed[int(first.stdout)], json.loads(second.stdout)
    assert earlier["finished_exporting_at"] < later["finished_exporting_at"]
    assert earlier["concept_doi"] == later["concept_doi"], "the second is a new version"


def test_show_is_labelled_fields_and_json_ids_are_numbers(run_cli: Run, tmp_path: Path) -> None:
    """``show`` prints one labelled field per line (no Python dict dumps); in ``--json`` every
    id is a number, ``concept_rec_id`` as ``record_id``."""
    path = a_file(tmp_path, "shown.csv", "1\n")
    export_id = run_cli("export", path, "--name", "n", *EXPORT).stdout.strip()
    assert run_cli("worker", "--burst").returncode == 0
    text = run_cli("show", export_id).stdout
    assert "{" not in text and "'" not in text, text
    assert "record id: " in text and "  shown.csv:" in text and "    md5: " in text
    view = json.loads(run_cli("show", export_id, "--json").stdout)
    ids = ("id", "record_id", "concept_rec_id", "deposition_id", "attempts")
    assert all(isinstance(view[key], int) for key in ids), {key: view[key] for key in ids}


def test_show_says_what_a_waiting_export_waits_for(run_cli: Run, tmp_path: Path) -> None:
    """A queued export shows its job: status, queue, next attempt (not only 'pending')."""
    export_id = run_cli("export", a_file(tmp_path, "w.csv", "1\n"), "--name", "n", *EXPORT)
    view = json.loads(run_cli("show", export_id.stdout.strip(), "--json").stdout)
    assert view["job"]["status"] == "queued" and view["job"]["queue"] == "default"
    assert view["job"]["next_attempt_at"]
    shown = run_cli("show", export_id.stdout.strip()).stdout
    assert "next attempt at: " in shown
    assert "waiting: queued since " in shown and "for the next free worker" in shown


def test_list_says_what_each_waiting_export_waits_for(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """``list`` names the earlier version a later export waits for, and a failed one's error."""
    first = run_cli("export", a_file(tmp_path, "v1.csv", "1\n"), "--name", "n", *EXPORT)
    second = run_cli("export", a_file(tmp_path, "v2.csv", "2\n"), "--name", "n", *EXPORT)
    run_cli("cancel", first.stdout.strip())
    third = run_cli("export", a_file(tmp_path, "v3.csv", "3\n"), "--name", "n", *EXPORT)
    rows = run_cli("list", env={**cli_env, "COLUMNS": "200"}).stdout.splitlines()
    [row] = [line for line in rows if line.strip("│ ").startswith(third.stdout.strip() + " ")]
    assert f"waits for export {second.stdout.strip()} (same name" in row, rows
    [cancelled] = [line for line in rows if line.strip("│ ").startswith(first.stdout.strip() + " ")]
    assert "cancelled by the user" in cancelled, rows
    [newest] = json.loads(run_cli("list", "--limit", "1", "--json").stdout)
    assert newest["id"] == int(third.stdout), "--limit keeps the newest"
    failed = json.loads(run_cli("list", "--state", "failed", "--json").stdout)
    assert [e["id"] for e in failed] == [int(first.stdout)]


def test_a_long_upload_logs_how_far_it_is(caplog: pytest.LogCaptureFixture) -> None:
    """The worker's log says how far a large upload is, at an interval, not once per chunk."""
    import logging

    from zenodo_export.exports.progress import LogProgress

    progress = LogProgress(every=0.0)
    with caplog.at_level(logging.INFO, logger="zenodo_export.exports"):
        progress.file_started(7, "big.bin", 200_000_000)
        progress.advance(7, "big.bin", 90_000_000)
        progress.file_done(7, "big.bin")
    assert "export 7: big.bin 45% (90.0 of 200.0 MB)" in caplog.text
    quiet = LogProgress()
    with caplog.at_level(logging.INFO, logger="zenodo_export.exports"):
        caplog.clear()
        quiet.file_started(8, "b", 10)
        for _ in range(100):
            quiet.advance(8, "b", 1)
    assert "%" not in caplog.text, "a quick upload logs no progress lines"


def test_help_says_keyword_is_required_as_it_is(run: Run) -> None:
    """``--help`` marks ``--keyword`` required, and leaving it out says so (exit 2)."""
    helped = run("export", "--help")
    assert "--keyword" in helped.stdout
    after = helped.stdout.split("--keyword", 1)[1].split("--", 1)[0]
    assert "[required]" in after
    missing = run("export", "x.csv", "--name", "n", "--title", "T", "--description", "D")
    assert missing.returncode == 2 and "Missing option '--keyword'" in missing.stderr


def test_at_80_columns_ids_urls_and_uuids_stay_whole(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """``list`` and ``alerts`` on an 80-column terminal: what a person copies is never cut;
    every line fits."""
    env = {**cli_env, "COLUMNS": "80"}
    long_name = "a_rather_long_export_name_for_the_monthly_report_" * 2
    done = run_cli("export", a_file(tmp_path, "ok.csv", "1\n"), "--name", long_name, *EXPORT)
    path = Path(a_file(tmp_path, "gone.csv", "2\n"))
    run_cli("export", str(path), "--in-place", "--name", "failing", *EXPORT)
    path.unlink()
    assert run_cli("worker", "--burst").returncode == 0
    url = json.loads(run_cli("show", done.stdout.strip(), "--json").stdout)["url"]
    listed = run_cli("list", env=env).stdout
    assert url in listed and all(len(line) <= 80 for line in listed.splitlines())
    [alert] = json.loads(run_cli("alerts", "--json").stdout)
    shown = run_cli("alerts", env=env).stdout
    assert alert["uuid"] in shown and all(len(line) <= 80 for line in shown.splitlines())


def test_check_fails_a_token_that_cannot_publish(
    sandbox_factory: Any, run_cli: Run, cli_env: dict[str, str]
) -> None:
    """A token without ``deposit:actions`` fails ``check`` (publish would be refused later);
    the probe creates nothing on Zenodo."""
    limited = sandbox_factory(tokens=["writer:deposit:write", "full"])
    env = {**cli_env, "ZENODO_URL": limited.api_url, "ZENODO_TOKEN": "writer"}
    checked = run_cli("check", env=env)
    assert checked.returncode == 1
    assert "lacks the deposit:actions scope" in " ".join(checked.stdout.split())
    assert limited.admin("GET", "depositions") == []
    full = run_cli("check", env={**env, "ZENODO_TOKEN": "full"})
    assert "deposit:write and actions" in " ".join(full.stdout.split())


def test_errors_name_the_flag_or_variable_in_plain_words(run: Run, tmp_path: Path) -> None:
    """Not pydantic's wording ('Tuple should have at least 1 item'): the flag and what to do."""
    path = a_file(tmp_path, "p.csv", "1\n")
    data = str(tmp_path / "data")
    no_creator = run("export", path, "--name", "n", "--title", "T", "--description", "D",
                     "--keyword", "k", ZENODO_EXPORT_DATA_DIR=data)  # fmt: skip
    line = one_line_error(no_creator, 4, "--creator (default: $CREATOR)", "needs at least 1 value")
    assert "Tuple" not in line
    attempts = run("list", ZENODO_EXPORT_DATA_DIR=data, ZENODO_EXPORT_MAX_ATTEMPTS="many")
    one_line_error(attempts, 3, "ZENODO_EXPORT_MAX_ATTEMPTS: must be a whole number")


@pytest.mark.parametrize(
    "query,status",
    [
        ("SELECT id, title FROM works", "ok"),
        ("SELECT id, titel FROM works", "FAIL"),
        ("SELEKT 1", "FAIL"),
    ],
)
def test_check_plans_each_reports_sql(query: str, status: str, run: Run, tmp_path: Path) -> None:
    """``check`` has the report's database plan its SQL, read only: a typo fails ``check``
    rather than the first scheduled run; nothing is written to the database."""
    works = tmp_path / "works.db"
    with sqlite3.connect(works) as connection:
        connection.execute("CREATE TABLE works (id INTEGER PRIMARY KEY, title TEXT)")
    before = works.read_bytes()
    config = tmp_path / "config.toml"
    config.write_text(f"[reports.stats]\ndatabase_url = 'sqlite:///{works}'\nquery = '{query}'\n")
    result = run(
        "check", ZENODO_EXPORT_DATA_DIR=str(tmp_path / "data"), ZENODO_EXPORT_CONFIG=str(config)
    )
    [line] = [line for line in result.stdout.splitlines() if " report stats:" in line]
    assert line.startswith(status), line
    assert works.read_bytes() == before, "check wrote to the report's database"


def test_the_worker_says_when_it_waits_for_the_shared_rate_limit(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """Another worker of the token used up the budget a moment ago: the worker's log says how
    long it waits for it, instead of going silent."""
    import time

    from zenodo_export.zenodo.pacing import limiter_key

    env = {**cli_env, "ZENODO_EXPORT_RATE_LIMITS": "10/minute"}
    export_id = run_cli("export", a_file(tmp_path, "paced.csv", "1\n"), "--name", "n", *EXPORT,
                        env=env).stdout.strip()  # fmt: skip
    key = limiter_key(env["ZENODO_URL"], env["ZENODO_TOKEN"])
    spent = time.time() - 50  # ten requests 50 s ago: the next may go in 10 s (start-up: ~3)
    with sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///")) as db:
        db.executemany("insert into rate_limit_events (key, at) values (?, ?)", [(key, spent)] * 10)
    worked = run_cli("worker", "--burst", env=env)
    assert worked.returncode == 0, worked.stderr
    assert "for the request budget 10/minute shared by every worker" in worked.stderr, worked.stderr
    assert json.loads(run_cli("show", export_id, "--json", env=env).stdout)["state"] == "done"

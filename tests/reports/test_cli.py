"""The report and schedule commands, and the config part of `check`, as real processes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.test_cli import assert_one_line_error
from tests.fixtures.cli import Run
from tests.reports.conftest import LAGOTTO, create_works, report_config, write_config

LAGOTTO_ENV = {name.upper(): value for name, value in LAGOTTO.items()}


def config_env(cli_env: dict[str, str], tmp_path: Path, body: str, **extra: str) -> dict[str, str]:
    """The CLI environment with a config file holding ``body`` and Lagotto's settings."""
    config = write_config(tmp_path / "etc", body)
    return {**cli_env, **LAGOTTO_ENV, "ZENODO_EXPORT_CONFIG": str(config), **extra}


def works_body(cli_env: dict[str, str], schedule: str | None = None) -> str:
    """A ``stats`` report against the CLI's own SQLite database, filled with works."""
    create_works(cli_env["DATABASE_URL"])
    return report_config(cli_env["DATABASE_URL"], schedule=schedule)


def test_report_wait_publishes_to_the_sandbox(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """`report stats --wait --json` runs the query, exports the zip and ends done with a DOI."""
    env = config_env(cli_env, tmp_path, works_body(cli_env))
    result = run_cli("report", "stats", "--wait", "--json", env=env)
    assert result.returncode == 0, result.stderr
    export = json.loads(result.stdout)
    assert export["state"] == "done" and export["doi"]
    assert export["name"] == "stats"
    assert re.fullmatch(r"stats_\d{4}-\d\d-\d\d\.zip", "".join(export["files"]))
    assert export["data"]["title"].startswith("Cumulative PLOS ALM Report - ")


def test_schedule_list_shows_last_and_next_run(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """`schedule list --json`: never run yet, so its latest period is next; a worker fires it."""
    env = config_env(cli_env, tmp_path, works_body(cli_env, schedule="0 0 1 1 *"))
    before = json.loads(run_cli("schedule", "list", "--json", env=env).stdout)
    assert [(s["name"], s["target"], s["rule"], s["last_period"]) for s in before] == [
        ("reports.stats", "stats", "0 0 1 1 *", None)
    ]
    assert run_cli("worker", "--burst", env=env).returncode == 0
    after = json.loads(run_cli("schedule", "list", "--json", env=env).stdout)[0]
    assert after["last_period"] == before[0]["next_run"][:16] + "Z"
    assert after["last_export_id"] is not None and after["next_run"] > before[0]["next_run"]


def test_unknown_report_and_bad_config_are_one_line_errors(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """An unknown report name and a broken config file: one line each, no traceback."""
    env = config_env(cli_env, tmp_path, works_body(cli_env))
    assert_one_line_error(run_cli("report", "yearly", env=env), "'yearly'", "reports: stats")
    env = config_env(cli_env, tmp_path, "[reports.stats]\nquery = 'SELECT 1'\n")
    assert_one_line_error(
        run_cli("schedule", "list", env=env), "config.toml: reports.stats.database_url:"
    )


def test_check_fails_naming_missing_lagotto_settings(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """With a report configured `check` fails without SITENAMELONG; snapshots need SERVERNAME."""
    body = works_body(cli_env) + "\n[snapshots.works]\nurl = 'http://example.org/api/works'\n"
    env = config_env(cli_env, tmp_path, body)
    del env["SITENAMELONG"]
    assert run_cli("list", env=env).returncode == 0  # migrates
    result = run_cli("check", "--json", env=env)
    assert result.returncode == 1
    status = {item["name"]: (item["status"], item["detail"]) for item in json.loads(result.stdout)}
    assert status["SITENAMELONG"] == ("fail", "not set: needed by report stats")
    assert status["SERVERNAME"] == ("fail", "not set: needed by snapshot works")
    assert status["config"][0] == "ok" and status["report stats"][0] == "ok"
    assert status["CREATOR"][0] == "ok"
    assert status["snapshot works"] == ("ok", "not uploaded (upload = false)")


def test_check_fails_when_a_snapshot_header_variable_is_not_set(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """A snapshot header whose variable is unset fails ``check``; a set one is never shown."""
    body = (
        "[snapshots.works]\nurl = 'http://example.org/api/works'\nupload = true\n"
        "headers = { Authorization = 'env:ZX_API_TOKEN', X-Key = 'env:ZX_KEY' }\n"
    )
    env = {**config_env(cli_env, tmp_path, body), "ZX_API_TOKEN": "Bearer s3cr3t"}
    assert run_cli("list", env=env).returncode == 0
    result = run_cli("check", "--json", env=env)
    status = {item["name"]: (item["status"], item["detail"]) for item in json.loads(result.stdout)}
    assert status["snapshot works"] == (
        "fail",
        "snapshot header X-Key: environment variable ZX_KEY is not set",
    )
    env["ZX_KEY"] = "k3y"
    result = run_cli("check", "--json", env=env)
    status = {item["name"]: (item["status"], item["detail"]) for item in json.loads(result.stdout)}
    assert status["snapshot works"] == ("ok", "uploads to Zenodo when done")
    assert "s3cr3t" not in result.stdout and "k3y" not in result.stdout


def test_check_warns_when_a_reports_database_is_down(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """A report whose database does not answer is a warning, not a failure."""
    body = "[reports.stats]\ndatabase_url = 'postgresql://x@127.0.0.1:9/db'\nquery = 'SELECT 1'\n"
    env = config_env(cli_env, tmp_path, body)
    assert run_cli("list", env=env).returncode == 0
    result = run_cli("check", "--json", env=env)
    status = {item["name"]: (item["status"], item["detail"]) for item in json.loads(result.stdout)}
    assert status["report stats"][0] == "warn"
    assert "database unavailable" in status["report stats"][1]
    assert result.returncode == 0, result.stdout

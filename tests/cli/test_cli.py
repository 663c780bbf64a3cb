"""The CLI as a user runs it: a real process, real files, the real sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fixtures.cli import Run, clean_environment

EXPORT_ARGS = [
    "--name",
    "monthly",
    "--title",
    "Cumulative Report - October 2026",
    "--description",
    "All works through October.",
    "--creator",
    "Lin, Jennifer",
    "--keyword",
    "alm",
    "--publication-date",
    "2026-10-10",
    "--code-repository-url",
    "https://github.com/lagotto/lagotto",
]


def a_file(tmp_path: Path, name: str = "stats.csv", text: str = "a,b\n1,2\n") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def assert_one_line_error(result: Any, *fragments: str) -> None:
    """A bad input: non-zero exit, one line on stderr naming the problem, no traceback."""
    assert result.returncode not in (0, None), result
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_export_wait_prints_url_and_doi(run_cli: Run, tmp_path: Path) -> None:
    """`export --wait` with no worker up runs the export here and prints its URL and DOI."""
    result = run_cli("export", a_file(tmp_path), *EXPORT_ARGS, "--wait")
    assert result.returncode == 0, result.stderr
    assert "done: http://127.0.0.1:" in result.stdout and "10.5281/zenodo." in result.stdout


def test_export_then_list_show_json_are_stable(run_cli: Run, tmp_path: Path) -> None:
    """`export` prints the id; `list --json` and `show --json` give the documented keys."""
    created = run_cli("export", a_file(tmp_path), *EXPORT_ARGS)
    assert created.returncode == 0, created.stderr
    export_id = int(created.stdout.strip())
    listed = json.loads(run_cli("list", "--json").stdout)
    assert [item["id"] for item in listed] == [export_id]
    assert listed[0]["state"] == "pending" and listed[0]["name"] == "monthly"
    shown = json.loads(run_cli("show", str(export_id), "--json").stdout)
    assert shown["data"]["title"] == "Cumulative Report - October 2026"
    assert {"id", "state", "url", "doi", "failed_at", "last_error", "files"} <= set(shown)
    assert json.loads(run_cli("list", "--state", "done", "--json").stdout) == []


def test_worker_burst_process_exports_what_is_queued(run_cli: Run, tmp_path: Path) -> None:
    """A `worker --burst` process publishes the queued export and exits 0."""
    export_id = run_cli("export", a_file(tmp_path), *EXPORT_ARGS).stdout.strip()
    worker = run_cli("worker", "--burst")
    assert worker.returncode == 0, worker.stderr
    shown = json.loads(run_cli("show", export_id, "--json").stdout)
    assert shown["state"] == "done" and shown["doi"].startswith("10.5281/zenodo.")


def test_failed_export_alerts_and_retry(run_cli: Run, tmp_path: Path) -> None:
    """A failed export shows an alert; `retry` queues it again and it resumes to done.

    Its file is read in place (``--in-place``), so moving it away makes the upload fail.
    """
    path = Path(a_file(tmp_path))
    export_id = run_cli("export", str(path), "--in-place", *EXPORT_ARGS).stdout.strip()
    path.rename(tmp_path / "elsewhere.csv")
    assert run_cli("worker", "--burst").returncode == 0
    alerts = json.loads(run_cli("alerts", "--json").stdout)
    assert len(alerts) == 1 and alerts[0]["export_id"] == int(export_id)
    assert "does not exist" in alerts[0]["message"] and "Traceback" in alerts[0]["backtrace"]
    (tmp_path / "elsewhere.csv").rename(path)
    assert run_cli("retry", export_id).returncode == 0
    assert run_cli("worker", "--burst").returncode == 0
    assert json.loads(run_cli("show", export_id, "--json").stdout)["state"] == "done"
    resolved = run_cli("alerts", "resolve", alerts[0]["uuid"])
    assert resolved.returncode == 0
    assert json.loads(run_cli("alerts", "--json").stdout) == []
    assert len(json.loads(run_cli("alerts", "--all", "--json").stdout)) == 1


def test_check_passes_against_the_sandbox_and_fails_without_a_token(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """`check` says ok for each item when all is in place, and exits 1 naming what is not."""
    env = {**cli_env, "CREATOR": "x", "GITHUB_URL": "https://x"}
    fresh = run_cli("check", env=env)
    said = " ".join(fresh.stdout.split())  # lines wrap at spaces
    assert fresh.returncode == 0 and "not migrated yet: `zenodo-export migrate`" in said, said
    assert run_cli("list", env=env).returncode == 0  # any other command migrates
    ok = run_cli("check", "--json", env=env)
    assert ok.returncode == 0, ok.stdout
    assert {item["status"] for item in json.loads(ok.stdout)} == {"ok"}
    env = {k: v for k, v in cli_env.items() if k != "ZENODO_TOKEN"}
    bad = run_cli("check", env=env)
    assert bad.returncode == 1 and "ZENODO_TOKEN" in bad.stdout and "FAIL" in bad.stdout


def test_bad_inputs_give_one_line_errors(run_cli: Run, tmp_path: Path) -> None:
    """Missing file, empty file, bad date, unknown export, bad setting: one line, no traceback."""
    assert_one_line_error(
        run_cli("export", str(tmp_path / "nope.csv"), *EXPORT_ARGS),
        "files",
        "nope.csv",
        "does not exist",
    )
    assert_one_line_error(
        run_cli("export", a_file(tmp_path, "empty.csv", ""), *EXPORT_ARGS), "empty.csv", "empty"
    )
    args = [*EXPORT_ARGS[:-4], "--publication-date", "2026-13-01", *EXPORT_ARGS[-2:]]
    assert_one_line_error(
        run_cli("export", a_file(tmp_path), *args), "--publication-date", "YYYY-MM-DD"
    )
    assert_one_line_error(run_cli("show", "999"), "export 999")
    assert_one_line_error(run_cli("retry", "999"), "export 999")
    assert_one_line_error(run_cli("alerts", "resolve", "no-such-uuid"), "no-such-uuid")
    env = clean_environment(DATABASE_URL="nosuchdb://x", ZENODO_EXPORT_DATA_DIR=str(tmp_path))
    assert_one_line_error(run_cli("list", env=env), "DATABASE_URL")
    env = clean_environment(ZENODO_EXPORT_DATA_DIR=str(tmp_path), ZENODO_EXPORT_MAX_ATTEMPTS="x")
    assert_one_line_error(run_cli("list", env=env), "ZENODO_EXPORT_MAX_ATTEMPTS")
    assert json.loads(run_cli("list", "--json").stdout) == []


def test_worker_without_token_refuses_to_start(run_cli: Run, cli_env: dict[str, str]) -> None:
    """A worker with no token exits at once instead of failing every export."""
    env = {k: v for k, v in cli_env.items() if k != "ZENODO_TOKEN"}
    assert_one_line_error(run_cli("worker", "--burst", env=env), "ZENODO_TOKEN")


def test_demo_publishes_to_the_local_sandbox_and_says_so(run_cli: Run, tmp_path: Path) -> None:
    """The README's first command: a complete export to a local sandbox, said plainly."""
    env = clean_environment(ZENODO_EXPORT_DATA_DIR=str(tmp_path / "home"))
    result = run_cli("demo", "--port", "0", env=env)
    assert result.returncode == 0, result.stderr
    assert "LOCAL SANDBOX" in result.stdout and "ZENODO_TOKEN" in result.stdout
    assert "URL: http://127.0.0.1:" in result.stdout and "DOI: 10.5281/zenodo." in result.stdout
    listed = json.loads(run_cli("list", "--json", env=env).stdout)
    assert [item["state"] for item in listed] == ["done"]
    assert (tmp_path / "home" / "zenodo-export.db").exists()
    database = str(tmp_path / "home" / "zenodo-export.db")
    assert any(line.endswith(database) for line in result.stdout.splitlines()), (
        "the database path is broken across lines"
    )

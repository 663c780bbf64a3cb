"""A new user's first hour, played start to end through the real CLI (issue 11's "Done when").

One test, in the order a newcomer goes: ``check``, ``demo``, an export that a worker
publishes, ``list`` and ``show``, ``cancel`` and ``delete``, a report of the app's own tables,
a snapshot of a local paginated API, ``alerts``. Every command is a subprocess with a fresh
HOME, its own SQLite file and data dir, pointed at the sandbox, its output not on a terminal
(no ``COLUMNS``). Every command's output is held to the same rules: no traceback, every line
under 100 columns, and every export id, DOI, record URL and alert UUID that ``--json`` gives
whole in the plain output that shows it. Breaches of those rules are collected and asserted
empty at the end, so that one run names them all.

Not held to the width rule: ``--json`` output (a JSON string cannot wrap; its stderr is still
checked for tracebacks, its stdout is parsed, and ``alerts --json`` carries backtraces by
design) and the worker's log (records, one per line, for a file or a journal).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import CLI, StartWorker
from tests.fixtures.environment import clean_environment
from tests.snapshots.api_server import ApiServer

WIDTH = 100
"""Every line of every command's output is shorter than this."""

EXPORT = ["--title", "First hour statistics", "--description", "What a newcomer archived.",
          "--creator", "Doe, Jane", "--keyword", "first-hour",
          "--code-repository-url", "https://github.com/example/first-hour"]  # fmt: skip

CUT = r"\s\u2500-\u257f|()"
"""What may stand right next to a value that is whole: blanks, a table's lines, nothing."""


@dataclass
class Newcomer:
    """Runs commands as a new user would, and notes every breach of the output rules.

    Widths are measured with ``home`` written as ``/home/jane``: the test's temporary folder
    is longer than a real home, and paths are printed whole (never cut), so a line holding a
    path is as long as that path.
    """

    env: dict[str, str]
    home: Path
    problems: list[str] = field(default_factory=list)

    def start(self, *args: str, **settings: str) -> subprocess.Popen[str]:
        """Start ``zenodo-export ARGS...`` with ``settings`` on top of the environment."""
        return subprocess.Popen(
            [*CLI, *args],
            env={**self.env, **settings},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.home,
        )

    def finish(
        self, process: subprocess.Popen[str], *args: str, code: int = 0
    ) -> subprocess.CompletedProcess[str]:
        """Wait for ``process`` (``zenodo-export ARGS...``); check its exit ``code`` and its
        output."""
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
        result = subprocess.CompletedProcess(args, process.returncode, stdout, stderr)
        command = " ".join(["zenodo-export", *args])
        if "--json" in args:  # a JSON string cannot wrap; alerts --json holds backtraces
            self.inspect(command, stderr, width=False)
        else:
            self.inspect(command, stdout + stderr)
        assert result.returncode == code, f"{command}: exit {result.returncode}\n{stdout}{stderr}"
        return result

    def run(self, *args: str, code: int = 0, **settings: str) -> subprocess.CompletedProcess[str]:
        """Run ``zenodo-export ARGS...``; check its exit ``code`` and its output."""
        return self.finish(self.start(*args, **settings), *args, code=code)

    def both(self, *args: str) -> tuple[Any, str]:
        """Run ``ARGS --json`` and ``ARGS`` side by side; return the JSON and the plain text."""
        as_json, plain = self.start(*args, "--json"), self.start(*args)
        view = json.loads(self.finish(as_json, *args, "--json").stdout)
        return view, self.finish(plain, *args).stdout

    def inspect(self, command: str, output: str, *, width: bool = True) -> None:
        """Note a traceback in ``output``, and with ``width`` a line of ``WIDTH`` columns or
        more."""
        if "Traceback" in output:
            self.problems.append(f"{command}: a traceback:\n{output}")
        for line in output.replace(str(self.home), "/home/jane").splitlines():
            if width and len(line) >= WIDTH:
                self.problems.append(f"{command}: a line of {len(line)} columns:\n{line}")

    def whole(self, command: str, text: str, values: Iterable[Any]) -> None:
        """Note each of ``values`` that ``text`` (the output of ``command``) lacks or cuts."""
        for value in values:
            if value in (None, ""):
                continue
            found = re.search(rf"(?<![^{CUT}]){re.escape(str(value))}(?![^{CUT}])", text)
            if found is None:
                self.problems.append(f"{command}: {value} is not whole in:\n{text}")

    def show(self, export_id: int) -> tuple[dict[str, Any], str]:
        """``show ID`` and ``show ID --json``: the plain one holds the JSON one's ids whole;
        return both."""
        view, plain = self.both("show", str(export_id))
        ids = [view["id"], view["url"], view["doi"], view["concept_doi"]]
        self.whole(f"zenodo-export show {export_id}", plain, ids)
        return view, plain

    def listed(self) -> list[dict[str, Any]]:
        """``list`` and ``list --json``: the plain one holds every id and URL whole."""
        views, plain = self.both("list")
        self.whole("zenodo-export list", plain, [view["id"] for view in views])
        self.whole("zenodo-export list", plain, [view["url"] for view in views])
        return list(views)

    def alerts(self) -> list[dict[str, Any]]:
        """``alerts`` and ``alerts --json``: the plain one holds every UUID whole."""
        views, plain = self.both("alerts")
        self.whole("zenodo-export alerts", plain, [view["uuid"] for view in views])
        return list(views)

    def export(self, folder: Path, name: str, *files: str, options: Iterable[str] = ()) -> int:
        """Write ``files`` (small text files) in ``folder`` and export them as ``name``."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for file in files:
            (folder / file).write_text(f"{name},{file}\n1,2\n")
            paths.append(str(folder / file))
        created = self.run("export", *paths, "--name", name, *EXPORT, *options)
        assert re.fullmatch(r"\d+\n", created.stdout), created.stdout
        return int(created.stdout)

    def wait_over(self, export_id: int, timeout: float = 60) -> str:
        """Poll ``show ID --json`` until the export is done or failed; return which."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.run("show", str(export_id), "--json")
            state = str(json.loads(shown.stdout)["state"])
            if state in ("done", "failed"):
                return state
            assert time.monotonic() < deadline, f"export {export_id} still {state}"
            time.sleep(1)


@pytest.fixture
def works_api() -> Iterator[ApiServer]:
    """A paginated JSON API on 127.0.0.1 (Lagotto's ``meta.page``, 5 pages of 3 works)."""
    with ApiServer() as server:
        yield server


def test_a_newcomers_first_hour(
    sandbox: Any, works_api: ApiServer, start_worker: StartWorker, tmp_path: Path
) -> None:
    """check, demo, export with a worker, list, show, cancel, delete, report, snapshot, alerts:
    each exits as it should, with no traceback, no line of 100 columns, no id cut."""
    home = tmp_path / "home"
    data = home / ".local" / "share" / "zenodo-export"
    env = clean_environment(
        HOME=str(home),
        DATABASE_URL=f"sqlite:///{data / 'zenodo-export.db'}",
        ZENODO_EXPORT_DATA_DIR=str(data),
        ZENODO_URL=sandbox.api_url,
        ZENODO_TOKEN=sandbox.token,
    )
    for name in ("COLUMNS", "LINES"):  # output is not on a terminal, and no width is forced
        env.pop(name, None)
    home.mkdir()
    user = Newcomer(env, home)

    # 1. check passes on a fresh install (an unmigrated database is a warning).
    checked = user.run("check")
    assert "FAIL" not in checked.stdout, checked.stdout

    # 2. demo runs its own sandbox and prints the record's URL.
    demo = user.run("demo", "--port", "0")
    assert re.search(r"URL: http://127\.0\.0\.1:\d+/\S+", demo.stdout), demo.stdout

    # 3. export two files; a worker publishes them. A third export, of a file read in place
    # and moved away before the worker came, fails with an alert.
    first = user.export(home / "monthly", "first_hour_stats", "stats.csv", "notes.txt")
    moved = user.export(home / "moved", "moved_away", "gone.csv", options=["--in-place"])
    (home / "moved" / "gone.csv").unlink()
    worker = start_worker(env)
    assert user.wait_over(first) == "done"
    assert user.wait_over(moved) == "failed"
    worker.send_signal(signal.SIGTERM)
    log = tmp_path / "worker.log"
    assert worker.wait(timeout=30) == 0, log.read_text()
    user.inspect("zenodo-export worker", log.read_text(), width=False)  # log records

    # 4. list and show it.
    assert first in [view["id"] for view in user.listed()]
    shown, _ = user.show(first)
    assert shown["state"] == "done" and shown["url"] and shown["doi"], shown
    assert sorted(shown["files"]) == ["notes.txt", "stats.csv"], shown["files"]

    # 5. cancel a queued export, delete another that never left.
    second = user.export(home / "second", "second_thoughts", "draft.csv")
    cancelled = user.run("cancel", str(second))
    assert f"export {second} cancelled" in cancelled.stdout, cancelled.stdout
    shown, plain = user.show(second)
    assert (shown["state"], shown["last_error"]) == ("failed", "cancelled by the user"), shown
    assert "cancelled by the user" in plain, plain
    third = user.export(home / "third", "never_mind", "mistake.csv")
    user.run("delete", str(third))
    gone = user.run("show", str(third), code=5)
    assert len(gone.stderr.strip().splitlines()) == 1, gone.stderr

    # 6. a report of the app's own tables, from the config file named by the environment.
    config = home / "first-hour.toml"
    config.write_text(
        "[reports.first_hour_report]\n"
        f"database_url = 'sqlite:///{data / 'zenodo-export.db'}'\n"
        "query = 'SELECT id, type, name, doi, finished_exporting_at FROM data_exports'\n"
        "title = 'First hour report'\n"
        "description = 'The exports of a first hour.'\n"
        "creators = ['Doe, Jane']\n"
        "keywords = ['first-hour']\n"
        "code_repository_url = 'https://github.com/example/first-hour'\n"
    )
    user.env["ZENODO_EXPORT_CONFIG"] = str(config)
    checked = user.run("check")
    assert re.search(r"^ok +report first_hour_report:", checked.stdout, re.M), checked.stdout
    reported = user.run("report", "first_hour_report", "--wait")

    # 7. a snapshot of a local paginated API (loopback, as its start URL is), archived.
    snapped = user.run(
        "snapshot",
        works_api.url("meta"),
        "--upload",
        "--wait",
        CREATOR="Doe, Jane",
        GITHUB_URL="https://github.com/example/first-hour",
    )
    assert re.search(r"^snapshot \d+ done:\s", snapped.stdout, re.M), snapped.stdout

    # 8. alerts: the moved file's, its UUID whole.
    [alert] = user.alerts()
    assert alert["export_id"] == moved, alert

    # Every export, listed: all published but the moved and the cancelled ones; the report's and the
    # upload's records whole in what their commands printed.
    views = user.listed()
    assert sorted((v["type"], v["name"], v["state"]) for v in views) == [
        ("ApiSnapshot", "127.0.0.1_api_works", "done"),
        ("ZenodoDataExport", "127.0.0.1_api_works", "done"),
        ("ZenodoDataExport", "demo_monthly_report", "done"),
        ("ZenodoDataExport", "first_hour_report", "done"),
        ("ZenodoDataExport", "first_hour_stats", "done"),
        ("ZenodoDataExport", "moved_away", "failed"),
        ("ZenodoDataExport", "second_thoughts", "failed"),
    ]
    records = {v["name"]: v for v in views if v["type"] == "ZenodoDataExport"}
    for name, output in [("first_hour_report", reported), ("127.0.0.1_api_works", snapped)]:
        record = records[name]
        command = " ".join(["zenodo-export", *output.args])
        user.whole(command, output.stdout, [record["id"], record["url"], record["doi"]])
    assert user.problems == [], "\n\n".join(user.problems)

"""The ``snapshot`` command, run as a real subprocess."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tests.fixtures.cli import Run
from tests.snapshots.api_server import ApiServer


def test_snapshot_wait_crawls_and_prints_the_zip(run_cli: Run, api: ApiServer) -> None:
    """``snapshot URL --wait`` crawls in this process and prints where the zip is."""
    done = run_cli("snapshot", api.url("cursor"), "--pages-per-job", "2", "--wait")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("snapshot 1 done: ")
    zipped = Path(done.stdout.split(": ", 1)[1].strip())
    with zipfile.ZipFile(zipped) as archive:
        dump = archive.read(zipped.with_suffix(".jsondump").name).decode()
    assert [json.loads(line) for line in dump.splitlines()] == api.expected("cursor")


def test_snapshot_without_wait_only_queues(run_cli: Run, api: ApiServer) -> None:
    """Without ``--wait`` the snapshot is created pending with its cursor; nothing is fetched."""
    created = run_cli("snapshot", api.url("meta"), "--stop-page", "3", "--json")
    assert created.returncode == 0, created.stderr
    view = json.loads(created.stdout)
    assert (view["type"], view["name"], view["state"]) == (
        "ApiSnapshot",
        "127.0.0.1_api_works",
        "pending",
    )
    assert view["data"]["stop_page"] == 3 and view["data"]["cursor"]["next_page"] == 1
    assert not api.state.hits


def test_bad_url_is_one_line_and_exit_code_4(run_cli: Run) -> None:
    """A URL that is not http(s) is refused with one line on stderr, no traceback."""
    refused = run_cli("snapshot", "file:///etc/passwd")
    assert refused.returncode == 4
    assert refused.stderr.strip().splitlines() == [
        "error: url: 'file:///etc/passwd' is not an http(s) URL with a host"
    ]


def test_snapshot_upload_wait_publishes(
    run_cli: Run, api: ApiServer, cli_env: dict[str, str]
) -> None:
    """``--upload --wait --json`` follows the snapshot, then its upload, to a published record."""
    env = {**cli_env, "CREATOR": "Lin, Jennifer", "GITHUB_URL": "https://github.com/lagotto"}
    done = run_cli("snapshot", api.url("linked"), "--upload", "--wait", "--json", env=env)
    assert done.returncode == 0, done.stderr
    view = json.loads(done.stdout)
    assert view["state"] == "done"
    assert view["upload"]["state"] == "done" and view["upload"]["doi"]
    assert view["upload"]["name"] == "127.0.0.1_api_linked_works"

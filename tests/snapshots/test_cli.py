"""The ``snapshot`` command, run as a real subprocess."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.cli import Run
from tests.snapshots.api_server import ApiServer
from zenodo_export.snapshots.options import SnapshotRequest


def test_snapshot_wait_crawls_and_prints_the_zip(run_cli: Run, api: ApiServer) -> None:
    """``snapshot URL --wait`` crawls in this process and prints where the zip is."""
    done = run_cli("snapshot", api.url("cursor"), "--pages-per-job", "2", "--wait")
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())  # a long path moves whole to its own line
    assert said.startswith("snapshot 1 done: ")
    zipped = Path(said.split(": ", 1)[1])
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


def help_defaults(help_text: str) -> dict[str, str]:
    """Return each option's ``[default: X]`` as the help shows it, by field name."""
    flat = " ".join(help_text.split())
    found: dict[str, str] = {}
    for chunk in flat.split(" --")[1:]:
        option, _, rest = chunk.partition(" ")
        if "[default: " in rest:
            found[option.replace("-", "_")] = rest.split("[default: ", 1)[1].split("]")[0]
    return found


def test_help_shows_the_defaults_of_the_one_model(run_cli: Run) -> None:
    """``snapshot --help`` shows SnapshotRequest's defaults (concurrency 4, as the config file)."""
    shown = run_cli("snapshot", "--help")
    assert shown.returncode == 0, shown.stderr
    model = SnapshotRequest(url="https://example.org/api")
    assert help_defaults(shown.stdout) == {
        "pages_per_job": str(model.pages_per_job),
        "start_page": str(model.start_page),
        "concurrency": str(model.concurrency),
        "stop_page": "the API's last",  # None, in words
    }
    assert (model.concurrency, model.stop_page, model.upload) == (4, None, False)


@pytest.mark.parametrize(
    "options,line",
    [
        (
            ["--start-page", "4", "--stop-page", "2"],
            "error: stop_page: 2 is before the start page 4",
        ),
        (["--concurrency", "0"], "error: concurrency: must be at least 1"),
    ],
)
def test_bad_option_is_one_line_naming_it(run_cli: Run, options: list[str], line: str) -> None:
    """The command refuses what the config file refuses, with one line naming the option."""
    refused = run_cli("snapshot", "https://example.org/api/works", *options)
    assert refused.returncode == 4
    assert refused.stderr.strip().splitlines() == [line]

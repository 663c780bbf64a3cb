"""The real ``zenodo-export sandbox`` command, run as a subprocess, and its documentation."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.sandbox.helpers import METADATA

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"
COMMAND = [sys.executable, "-m", "zenodo_export", "sandbox"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_cli(data_dir: Path, *args: str) -> Iterator[tuple[str, list[str]]]:
    """Run the command until the block ends; yield its API URL and its banner lines."""
    port = _free_port()
    argv = [*COMMAND, "--port", str(port), "--data-dir", str(data_dir), "--no-access-log", *args]
    with (data_dir.parent / f"stderr-{port}.log").open("w") as errors:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            assert process.stdout is not None
            banner = [process.stdout.readline().strip() for _ in range(5)]
            match = re.search(r"serving (\S+)", banner[0])
            assert match, banner
            yield match[1], banner
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=15)
            assert process.stdout is not None
            process.stdout.close()


def test_the_command_serves_and_keeps_its_state_across_a_restart(tmp_path: Path) -> None:
    """The CLI prints its URL and tokens; after a restart on the same data dir nothing is lost."""
    data_dir = tmp_path / "state"
    with running_cli(data_dir, "--token", "cli-token") as (api_url, banner):
        assert any("cli-token" in line for line in banner)
        assert any(f"ZENODO_URL={api_url} ZENODO_TOKEN=cli-token" in line for line in banner)
        with httpx.Client(base_url=api_url, headers={"Authorization": "Bearer cli-token"}) as api:
            dep = api.post("deposit/depositions", json={"metadata": METADATA}).json()
            api.put(f"{dep['links']['bucket']}/data.csv", content=b"kept")
            published = api.post(dep["links"]["publish"]).json()
            draft = api.post("deposit/depositions", json={}).json()
    with (
        running_cli(data_dir, "--token", "cli-token") as (api_url, _),
        httpx.Client(base_url=api_url, headers={"Authorization": "Bearer cli-token"}) as api,
    ):
        record = api.get(f"records/{published['id']}").json()
        assert record["doi"] == published["doi"]
        assert api.get(record["files"][0]["links"]["self"]).content == b"kept"
        assert api.get(f"deposit/depositions/{draft['id']}").json()["state"] == "unsubmitted"
        assert api.post("deposit/depositions", json={}).json()["id"] > draft["id"]


def test_a_bad_flag_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    """A bad flag value prints one error line, no traceback, and exits non-zero."""
    result = subprocess.run(
        [*COMMAND, "--data-dir", str(tmp_path), "--rate-limit", "5/fortnight"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        "error: sandbox rate limit '5/fortnight': expected N/second|minute|hour|day"
    ]


def test_every_flag_is_documented() -> None:
    """Each option of the sandbox command appears in docs/sandbox.md."""
    from typer.main import get_command

    from zenodo_export.cli import _register_commands
    from zenodo_export.cli.app import app

    _register_commands()
    command = get_command(app).commands["sandbox"]  # type: ignore[attr-defined]
    flags = {opt for param in command.params for opt in param.opts if opt.startswith("--")}
    text = DOCS.read_text()
    assert flags and [flag for flag in sorted(flags) if flag not in text] == []


def test_every_admin_endpoint_is_documented() -> None:
    """Each /_sandbox/ route appears in docs/sandbox.md."""
    from zenodo_export.sandbox import admin

    text = DOCS.read_text()
    paths = {route.path.replace("{rule_id:int}", "{id}") for route in admin.routes()}  # type: ignore[attr-defined]
    assert [path for path in sorted(paths) if path not in text] == []

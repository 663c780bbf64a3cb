"""Worker processes: SIGTERM lets the running export finish; SIGKILL loses nothing."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

from tests.cli.test_cli import EXPORT_ARGS, a_file
from tests.fixtures.cli import Run
from tests.pipeline.conftest import add_fault, all_depositions


def wait_for(predicate: Any, log: Path, timeout: float = 30.0) -> None:
    """Wait until ``predicate()`` holds; on time-out, fail showing the worker's log."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out; worker log:\n{log.read_text()}"
        time.sleep(0.1)


def show(run_cli: Run, export_id: str) -> dict[str, Any]:
    return dict(json.loads(run_cli("show", export_id, "--json").stdout))


def test_sigterm_lets_the_running_export_finish(
    run_cli: Run, cli_env: dict[str, str], sandbox: Any, tmp_path: Path, start_worker: Any
) -> None:
    """SIGTERM during an upload: the worker finishes that export, then exits 0."""
    add_fault(sandbox, method="PUT", path=r"/api/files/", action="latency", seconds=2.0)
    export_id = run_cli("export", a_file(tmp_path), *EXPORT_ARGS).stdout.strip()
    worker = start_worker(cli_env)
    wait_for(lambda: show(run_cli, export_id)["deposition_id"] is not None, tmp_path / "worker.log")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0, (tmp_path / "worker.log").read_text()
    assert show(run_cli, export_id)["state"] == "done"


def test_killed_worker_job_is_claimed_again_and_resumed(
    run_cli: Run, cli_env: dict[str, str], sandbox: Any, tmp_path: Path, start_worker: Any
) -> None:
    """SIGKILL mid-upload: once the lease expires another worker resumes the same draft."""
    env = {**cli_env, "ZENODO_EXPORT_LEASE_SECONDS": "2"}
    add_fault(sandbox, method="PUT", path=r"/api/files/", action="latency", seconds=30.0, times=1)
    export_id = run_cli("export", a_file(tmp_path), *EXPORT_ARGS, env=env).stdout.strip()
    worker = start_worker(env)
    wait_for(lambda: show(run_cli, export_id)["deposition_id"] is not None, tmp_path / "worker.log")
    deposition_id = show(run_cli, export_id)["deposition_id"]
    worker.kill()
    worker.wait(timeout=10)
    assert show(run_cli, export_id)["state"] == "processing"
    time.sleep(2.5)
    assert run_cli("worker", "--burst", env=env).returncode == 0
    final = show(run_cli, export_id)
    assert final["state"] == "done" and final["deposition_id"] == deposition_id
    assert len(all_depositions(sandbox)) == 1

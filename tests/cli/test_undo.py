"""Cancel, delete, and Ctrl-C during --wait, through the real CLI against the sandbox."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.cli import CLI

Run = Callable[..., subprocess.CompletedProcess[str]]

EXPORT = ["--title", "T", "--description", "D", "--keyword", "k", "--creator", "Doe, Jane",
          "--code-repository-url", "https://github.com/example/tool"]  # fmt: skip

SLOW_UPLOAD = {
    "method": "PUT",
    "path": "^/api/files/",
    "action": "latency",
    "seconds": 30,
    "times": None,
}
"""Holds every file upload for 30 s: the export is running, its draft made, when we act."""


def queued(run_cli: Run, tmp_path: Path, name: str = "n") -> int:
    """Queue an export of a new small file; return its id."""
    path = tmp_path / f"{name}.csv"
    path.write_text(f"{name}\n")
    created = run_cli("export", str(path), "--name", name, *EXPORT)
    assert created.returncode == 0, created.stderr
    return int(created.stdout)


def shown(run_cli: Run, export_id: int) -> dict[str, Any]:
    """The export as ``show --json`` gives it."""
    return dict(json.loads(run_cli("show", str(export_id), "--json").stdout))


def depositions(sandbox: Any) -> list[dict[str, Any]]:
    """Every deposition the sandbox holds."""
    return list(httpx.get(f"{sandbox.base_url}/_sandbox/depositions").raise_for_status().json())


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Poll ``condition`` until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_cancel_a_queued_export_then_retry_it(run_cli: Run, tmp_path: Path, sandbox: Any) -> None:
    """A cancelled export fails at once and no worker runs it; ``retry`` brings it back."""
    export_id = queued(run_cli, tmp_path)
    cancelled = run_cli("cancel", str(export_id))
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"export {export_id} cancelled: it will not run" in cancelled.stdout
    assert shown(run_cli, export_id)["last_error"] == "cancelled by the user"
    assert run_cli("worker", "--burst").returncode == 0
    assert depositions(sandbox) == [], "a worker ran a cancelled export"
    assert run_cli("retry", str(export_id)).returncode == 0
    assert run_cli("worker", "--burst").returncode == 0
    assert shown(run_cli, export_id)["state"] == "done"


def test_a_published_export_cannot_be_cancelled_nor_deleted(run_cli: Run, tmp_path: Path) -> None:
    """A record is history: cancel and delete refuse in one line (exit 6), nothing changes."""
    export_id = queued(run_cli, tmp_path)
    assert run_cli("worker", "--burst").returncode == 0
    for command in ("cancel", "delete"):
        refused = run_cli(command, str(export_id))
        assert refused.returncode == 6, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert shown(run_cli, export_id)["state"] == "done"


def test_delete_an_export_that_never_reached_zenodo(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """The export and its job go; its staged file goes unless another export holds it."""
    kept = queued(run_cli, tmp_path, "shared")
    (tmp_path / "again").mkdir()
    twin = tmp_path / "again" / "shared.csv"
    twin.write_text("shared\n")
    created = run_cli("export", str(twin), "--name", "twin", *EXPORT)
    gone = int(created.stdout)
    only = queued(run_cli, tmp_path, "only")
    deleted = run_cli("delete", str(only))
    assert deleted.returncode == 0 and "5 byte(s) of staged files removed" in deleted.stdout
    shared = run_cli("delete", str(gone))
    assert "0 byte(s)" in shared.stdout, "content another export holds stays"
    ids = [e["id"] for e in json.loads(run_cli("list", "--json").stdout)]
    assert ids == [kept]
    assert run_cli("show", str(only)).returncode == 5
    store = Path(cli_env["ZENODO_EXPORT_DATA_DIR"]) / "store" / "blobs"
    assert len([p for p in store.rglob("*") if p.is_file()]) == 1


def test_cancel_a_running_export_discards_its_draft(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path, sandbox: Any
) -> None:
    """The worker stops at its next step; the draft is deleted; nothing is published."""
    sandbox.add_fault(SLOW_UPLOAD)
    export_id = queued(run_cli, tmp_path)
    worker = subprocess.Popen(
        [*CLI, "worker", "--burst"], env=cli_env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: shown(run_cli, export_id).get("deposition_id") is not None)
        cancelled = run_cli("cancel", str(export_id))
        assert cancelled.returncode == 0, cancelled.stderr
        assert "it stopped at its next step" in cancelled.stdout
        draft = shown(run_cli, export_id)["deposition_id"]
        assert f"draft {draft} discarded" in cancelled.stdout
        assert worker.wait(timeout=90) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert shown(run_cli, export_id)["state"] == "failed"
    assert [d for d in depositions(sandbox) if d["submitted"]] == []


def test_ctrl_c_during_wait_says_what_happens_and_twice_cancels(
    cli_env: dict[str, str], tmp_path: Path, sandbox: Any, run_cli: Run
) -> None:
    """One Ctrl-C: the export stays queued, and the message says how to stop it; a second
    within 3 s cancels it."""
    sandbox.add_fault(SLOW_UPLOAD)
    for presses, state in ((1, "processing"), (2, "failed")):
        path = tmp_path / f"wait-{presses}.csv"
        path.write_text("x\n")
        before = len(depositions(sandbox))
        waiting = subprocess.Popen(
            [*CLI, "export", str(path), "--name", f"w{presses}", *EXPORT, "--wait"],
            env=cli_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        wait_for(lambda n=before: len(depositions(sandbox)) > n, timeout=30)  # its draft exists
        time.sleep(0.5)
        for _ in range(presses):
            waiting.send_signal(signal.SIGINT)
            time.sleep(0.5)
        _, err = waiting.communicate(timeout=30)
        assert waiting.returncode == 130, (presses, err)
        assert "Traceback" not in err
        said = " ".join(err.split())  # the message wraps at spaces
        export_id = int(said.split("export ", 1)[1].split(" ", 1)[0])
        assert f"`zenodo-export cancel {export_id}` stops it" in said
        assert shown(run_cli, export_id)["state"] == state


def test_cancel_a_running_snapshot_stops_its_crawl(
    run_cli: Run, cli_env: dict[str, str], tmp_path: Path, start_worker: Any
) -> None:
    """A runaway crawl (200 slow pages) is stopped by ``cancel``: the worker fetches no more
    pages of it, and the snapshot fails "cancelled by the user"."""
    from tests.snapshots.api_server import ApiServer, ApiState

    with ApiServer(ApiState(pages=200, latency=0.2)) as api:
        created = run_cli("snapshot", api.url("meta"), "--pages-per-job", "5", "--concurrency", "1")
        assert created.returncode == 0, created.stderr
        snapshot_id = int(created.stdout)
        start_worker(cli_env)
        wait_for(lambda: sum(api.state.hits.values()) >= 8, timeout=60)
        cancelled = run_cli("cancel", str(snapshot_id))
        assert cancelled.returncode == 0, cancelled.stderr
        time.sleep(2)  # the page in flight, if any, ends
        fetched = sum(api.state.hits.values())
        time.sleep(3)
        assert sum(api.state.hits.values()) == fetched, "the crawl went on after cancel"
        assert fetched < 200
    view = shown(run_cli, snapshot_id)
    assert view["state"] == "failed" and view["last_error"] == "cancelled by the user"

"""Worker processes ride out PostgreSQL outages, and a worker that lost its lease stops.

The database is reached through a TCP proxy owned by the test (``tests/fixtures/proxy.py``),
which drops every connection and refuses new ones for a while: what clients see during a
restart or a fail-over.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.cli import CLI, sandbox_environment
from tests.fixtures.database import opened_store
from tests.fixtures.proxy import TcpProxy
from tests.pipeline.conftest import add_fault, all_depositions, queue
from zenodo_export.store import Store, get_export, list_alerts

pytestmark = pytest.mark.postgres


def start_workers(
    env: dict[str, str], log: Path, count: int, *args: str
) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` worker processes logging to ``log``."""
    with log.open("ab") as output:
        return [
            subprocess.Popen([*CLI, "worker", *args], env=env, stdout=output, stderr=output)
            for _ in range(count)
        ]


def stop(workers: list[subprocess.Popen[bytes]]) -> list[int]:
    """SIGTERM every worker and return their exit codes (killing any that hang)."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    codes = []
    for worker in workers:
        try:
            codes.append(worker.wait(timeout=30))
        except subprocess.TimeoutExpired:
            worker.kill()
            codes.append(worker.wait())
    return codes


def alerts(store: Store) -> list[str]:
    """Return the messages of the unresolved alerts."""
    with store.transaction() as session:
        return [alert.message for alert in list_alerts(session)]


def states(store: Store, ids: list[int]) -> list[str]:
    with store.transaction() as session:
        return [get_export(session, export_id).state for export_id in ids]


def wait_until(predicate: Any, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out; log:\n{log.read_text()[-6000:]}"
        time.sleep(0.2)


def make_file(directory: Path, name: str, size: int) -> Path:
    """Write a real file of ``size`` bytes whose content depends on its name."""
    path = directory / "files" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes((n * 7 + len(name)) % 256 for n in range(size)))
    return path


def files(directory: Path, prefix: str, count: int) -> list[Path]:
    return [make_file(directory, f"{prefix}-{n}.csv", 2000 + n) for n in range(count)]


@pytest.mark.slow
@pytest.mark.parametrize("outage", [3.0, 30.0])
def test_workers_ride_out_an_outage_and_publish_every_export_once(
    outage: float,
    postgres_url: str,
    postgres_proxy: tuple[TcpProxy, str],
    sandbox: Any,
    tmp_path: Path,
) -> None:
    """20 exports, two workers, the database away for a while: all published exactly once."""
    proxy, through_proxy = postgres_proxy
    add_fault(sandbox, method="*", path=r"^/api/", action="latency", seconds=0.05, times=None)
    with opened_store(postgres_url) as store:
        ids = [
            queue(store, [path], title=f"Export {path.name}") for path in files(tmp_path, "o", 20)
        ]
        env = {**sandbox_environment(sandbox, tmp_path), "DATABASE_URL": through_proxy}
        log = tmp_path / "workers.log"
        workers = start_workers(env, log, 2, "--concurrency", "2")
        try:
            wait_until(lambda: states(store, ids).count("done") >= 3, log, timeout=60)
            proxy.cut(outage)
            wait_until(lambda: set(states(store, ids)) == {"done"}, log, timeout=120)
            assert [worker.poll() for worker in workers] == [None, None], log.read_text()
        finally:
            codes = stop(workers)
        assert codes == [0, 0], log.read_text()[-6000:]
        published = [d for d in all_depositions(sandbox) if d.get("submitted")]
        titles = sorted(d["title"] for d in published)
        assert titles == sorted(f"Export o-{n}.csv" for n in range(20))
        assert len(all_depositions(sandbox)) == 20
        assert alerts(store) == []
    text = log.read_text()
    assert "database unavailable" in text and "database available again" in text


def hits_by_path(sandbox: Any) -> dict[str, int]:
    """Return how often each counting fault rule (one per path) matched."""
    rules = httpx.get(f"{sandbox.base_url}/_sandbox/faults").json()
    rules = rules["faults"] if isinstance(rules, dict) else rules
    return {rule["path"]: rule["hits"] for rule in rules}


@pytest.mark.slow
def test_a_worker_that_lost_its_lease_uploads_and_publishes_nothing_more(
    postgres_url: str,
    postgres_proxy: tuple[TcpProxy, str],
    sandbox: Any,
    tmp_path: Path,
) -> None:
    """Lease 3 s, a 10 s outage mid-upload: the other worker finishes; the first, back after
    the outage, uploads and publishes nothing more."""
    proxy, through_proxy = postgres_proxy
    # Uploads are counted per file. The second one outlasts the outage, so the first worker
    # is still at work when the database comes back: it must stop there, not go on.
    names = [f"part-{n}.csv" for n in range(3)]
    for name, seconds in zip(names, (2.0, 12.0, 2.0), strict=True):
        add_fault(
            sandbox, method="PUT", path=f"/{name}$", action="latency", seconds=seconds, times=None
        )
    publish = r"/actions/publish$"
    add_fault(sandbox, method="POST", path=publish, action="latency", seconds=0.0, times=None)
    paths = [make_file(tmp_path, name, 5000) for name in names]
    with opened_store(postgres_url) as store:
        export_id = queue(store, paths)
        lease = {"ZENODO_EXPORT_LEASE_SECONDS": "3", "ZENODO_EXPORT_POLL_INTERVAL": "0.1"}
        first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
        first = start_workers(
            {**sandbox_environment(sandbox, tmp_path, **lease), "DATABASE_URL": through_proxy},
            first_log,
            1,
        )
        second: list[subprocess.Popen[bytes]] = []
        try:
            wait_until(lambda: hits_by_path(sandbox)[f"/{names[0]}$"] == 1, first_log, 60)
            second = start_workers(  # ready and polling, so it needs no start-up time later
                {**sandbox_environment(sandbox, tmp_path, **lease), "DATABASE_URL": postgres_url},
                second_log,
                1,
            )
            wait_until(lambda: hits_by_path(sandbox)[f"/{names[1]}$"] == 1, first_log, 60)
            outage = proxy.cut_in_background(10.0)
            wait_until(lambda: states(store, [export_id]) == ["done"], second_log, 90)
            outage.join()
            time.sleep(2.0)  # the first worker is back: it must change nothing now
            with store.transaction() as session:
                export = get_export(session, export_id)
                assert export.state == "done" and export.failed_at is None
        finally:
            codes = stop(first + second)
        assert codes == [0, 0], first_log.read_text() + second_log.read_text()
        hits = hits_by_path(sandbox)
        # part-1 was in flight when the first run lost its lease: the second run sent it again
        # (unless the first one's had landed by then); nothing after it was sent twice
        assert [hits[f"/{name}$"] for name in names] in ([1, 2, 1], [1, 1, 1]), hits
        assert hits[publish] == 1
        assert alerts(store) == []
        [deposition] = all_depositions(sandbox)
        assert deposition["submitted"] and len(deposition["files"]) == 3
    first_text = first_log.read_text()
    assert "lost the lease" in first_text or "LeaseLost" in first_text or "stopped:" in first_text

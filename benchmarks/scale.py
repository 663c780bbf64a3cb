"""Benchmark how exports scale with workers on PostgreSQL, and how fast a queued job is claimed.

Measures, in one run:

1. scale: N small exports against a sandbox that adds 0.1 s to every ``/api/`` request (as a
   distant Zenodo would; rate limits off), run by one worker process, then by four, each on a
   fresh database; the ratio of the two wall times (goal: >= 3.5x with four);
2. wake-up: the time from enqueue (commit) to claim, with a poll interval of 5 s, so that only
   ``LISTEN``/``NOTIFY`` can make it fast (goal: < 0.1 s on PostgreSQL), against what polling
   alone would give (half the poll interval on average).

    python benchmarks/scale.py                      # 60 exports, 10 wake-ups
    python benchmarks/scale.py --exports 20 --wakeups 5

Each worker process costs ~0.7 s of CPU to start (importing SQLAlchemy, pydantic, httpx); on a
2-core machine four of them starting together cost ~1.5 s of the wall time, so the second
speed-up line leaves start-up out (first claim to last finished job, by the database clock).

Needs the local PostgreSQL (``ZENODO_EXPORT_TEST_POSTGRES``, default
``postgresql://postgres@127.0.0.1:5432/postgres``) to create throwaway databases on.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from zenodo_export.exports.service import create_and_queue
from zenodo_export.jobs import (
    JobContext,
    JobKind,
    JobRunner,
    Registry,
    Worker,
    enqueue,
)
from zenodo_export.settings import load_settings
from zenodo_export.store import Job, Store, count_exports

CLI = [sys.executable, "-m", "zenodo_export"]
TOKEN = "bench-token"
ADMIN = os.environ.get(
    "ZENODO_EXPORT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
LATENCY = 0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sandbox(data_dir: Path) -> Iterator[str]:
    """Run a sandbox with no rate limit and 0.1 s added to every API request; yield its API URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            *CLI,
            "sandbox",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--token",
            TOKEN,
            "--rate-limit",
            "off",
            "--no-access-log",
            "--fault",
            f"* ^/api/ latency seconds={LATENCY} times=forever",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/_sandbox/health")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.1)
        yield api
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def database() -> Iterator[str]:
    """Create a throwaway PostgreSQL database; yield its URL."""
    name = f"zx_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def queue_exports(store: Store, files: Path, count: int) -> None:
    for n in range(count):
        path = files / f"export-{n}.csv"
        path.write_text(f"id,value\n{n},{n * n}\n")
        create_and_queue(
            store,
            name=f"bench-{n}",
            files=[str(path)],
            publication_date="2026-11-29",
            title=f"Benchmark export {n}",
            description="A small export for the scale benchmark.",
            creators=["Bench, Mark"],
            keywords=["benchmark"],
            code_repository_url="https://github.com/lagotto/lagotto",
        )


@dataclass(frozen=True)
class Run:
    """How long one run took: in all, and from the first claim to the last job's end."""

    seconds: float
    working: float
    cpu: float


def working_seconds(store: Store) -> float:
    """Return the seconds from the first claim to the last finished job (database clock)."""
    with store.transaction() as session:
        first, last = session.execute(
            select(func.min(Job.claimed_at), func.max(Job.finished_at)).where(
                Job.kind == "data_export"
            )
        ).one()
    return float((last - first).total_seconds())


def run_exports(api: str, work: Path, exports: int, workers: int) -> Run:
    """Publish ``exports`` small exports with ``workers`` worker processes; time it."""
    with database() as url:
        store = Store.open(url)
        queue_exports(store, work, exports)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ZENODO_")},
            "DATABASE_URL": url,
            "ZENODO_URL": api,
            "ZENODO_TOKEN": TOKEN,
            "ZENODO_EXPORT_DATA_DIR": str(work / "data"),
            "ZENODO_EXPORT_RATE_LIMITS": "off",
            "ZENODO_EXPORT_POLL_INTERVAL": "0.2",
            "ZENODO_EXPORT_VERSIONING": "none",
        }
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        processes = [
            subprocess.Popen(
                [*CLI, "worker", "--burst"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        for process in processes:
            process.wait(timeout=1800)
        seconds = time.monotonic() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (
            cpu_before.ru_utime + cpu_before.ru_stime
        )
        with store.transaction() as session:
            done = count_exports(session, "done")
        working = working_seconds(store)
        store.dispose()
    if done != exports:
        raise RuntimeError(f"{done} of {exports} exports done with {workers} worker(s)")
    return Run(seconds, working, cpu)


def wakeup_latencies(count: int) -> list[float]:
    """Return enqueue-to-claim seconds of ``count`` jobs run by a worker polling every 5 s."""
    claimed: dict[int, float] = {}

    def perform(context: JobContext) -> None:
        claimed[context.job.id] = time.monotonic()

    latencies = []
    with database() as url, tempfile.TemporaryDirectory() as data:
        store = Store.open(url)
        settings = load_settings(data_dir=Path(data), poll_interval=5.0)
        worker = Worker(JobRunner(store, settings, Registry((JobKind("bench", perform),))))
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        time.sleep(1.5)  # the worker is idle, its listener connected
        for _ in range(count):
            with store.transaction() as session:
                job = enqueue(session, "bench")
                session.flush()
                job_id = job.id
            committed = time.monotonic()
            deadline = committed + 10
            while job_id not in claimed and time.monotonic() < deadline:
                time.sleep(0.001)
            latencies.append(claimed.get(job_id, deadline) - committed)
            time.sleep(0.3)
        worker.stop()
        thread.join(timeout=10)
        store.dispose()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exports", type=int, default=60)
    parser.add_argument("--wakeups", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with sandbox(work / "sandbox") as api:
            (work / "one").mkdir()
            (work / "four").mkdir()
            one = run_exports(api, work / "one", args.exports, 1)
            four = run_exports(api, work / "four", args.exports, 4)
    n = args.exports
    print(f"scale: {n} small exports, sandbox adding {LATENCY} s per API request, PostgreSQL")
    for label, run in (("one worker process (reference)", one), ("four worker processes", four)):
        print(
            f"  {label:32} {run.seconds:7.2f} s  {n / run.seconds:6.2f} exports/s  "
            f"(first claim to last end {run.working:6.2f} s; worker CPU {run.cpu:5.2f} s, "
            f"{run.cpu / n * 1000:.0f} ms per export)"
        )
    print(f"  speed-up four/one, wall time     {one.seconds / four.seconds:7.2f}x  (goal >= 3.5x)")
    steady = one.working / four.working
    print(f"  speed-up, first claim to last end {steady:6.2f}x  (process start-up left out)")
    latencies = wakeup_latencies(args.wakeups)
    print(f"wake-up: enqueue to claim, poll interval 5 s, {args.wakeups} jobs, PostgreSQL")
    print("  polling alone (reference)        2.500 s on average (half the interval)")
    print(f"  LISTEN/NOTIFY median            {statistics.median(latencies):7.3f} s")
    print(f"  LISTEN/NOTIFY worst             {max(latencies):7.3f} s   (goal < 0.1 s)")
    print(f"  ratio median/polling            {statistics.median(latencies) / 2.5:7.4f}")


if __name__ == "__main__":
    main()

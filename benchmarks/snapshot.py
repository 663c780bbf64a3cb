"""Benchmark API snapshots against the test API server (20 ms per page); run by hand.

Measures, in one run, each against a reference measured in the same run:

1. speed: crawling 200 pages at concurrency 8 vs sequentially (concurrency 1), same jobs of
   ``--pages-per-job`` pages, in a burst worker in this process (goal: >= 6x faster), and the
   two dumps are byte-identical;
2. memory: the peak RSS of a ``zenodo-export worker --burst`` process crawling 200 vs 2,000
   pages (goal: flat, the big crawl no more than ~10% above the small one).

    python benchmarks/snapshot.py
    python benchmarks/snapshot.py --pages 100 --big-pages 1000 --latency 0.01   # quicker
"""

from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the API server lives with the tests, shared, not copied

from zenodo_export.jobs import Worker  # noqa: E402
from zenodo_export.kinds import job_runner  # noqa: E402
from zenodo_export.settings import Settings  # noqa: E402
from zenodo_export.snapshots import SnapshotRequest, create_snapshot  # noqa: E402
from zenodo_export.store import Store, get_export  # noqa: E402

CLI = [sys.executable, "-m", "zenodo_export"]


class ApiProcess:
    """The test API server (``tests/snapshots/api_server.py``) in its own process, as a real
    API is: crawler and server never compete for one interpreter."""

    def __init__(self, *, pages: int, per_page: int, latency: float) -> None:
        command = [sys.executable, "-m", "tests.snapshots.api_server", "--pages", str(pages)]
        command += ["--per-page", str(per_page), "--latency", str(latency)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()

    def url(self) -> str:
        """Return the Lagotto-style endpoint."""
        return f"{self.base_url}/api/works"

    def __enter__(self) -> ApiProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def bench_settings(work: Path) -> Settings:
    """Settings of one measured crawl: its own data dir, no Zenodo needed."""
    return Settings(data_dir=work / "data", poll_interval=0.05, http_timeout=30.0)


def crawl_here(
    server: ApiProcess, work: Path, *, concurrency: int, per_job: int
) -> tuple[float, Path]:
    """Crawl the whole API in a burst worker in this process; return seconds and the dump."""
    settings = bench_settings(work)
    store = Store.open(f"sqlite:///{work / 'bench.db'}")
    try:
        snapshot_id = create_snapshot(
            store,
            settings,
            SnapshotRequest(url=server.url(), pages_per_job=per_job, concurrency=concurrency),
        )
        started = time.perf_counter()
        Worker(job_runner(store, settings), burst=True).run()
        seconds = time.perf_counter() - started
        with store.transaction() as session:
            snapshot = get_export(session, snapshot_id)
            assert snapshot.state == "done", snapshot.last_error
            dump = Path(snapshot.data["files"]["dump"])
    finally:
        store.dispose()
    return seconds, dump


def worker_peak_mb(server: ApiProcess, work: Path, *, concurrency: int, per_job: int) -> float:
    """Crawl the whole API in a ``worker --burst`` subprocess; return its peak RSS in MB."""
    database = f"sqlite:///{work / 'bench.db'}"
    store = Store.open(database)
    try:
        create_snapshot(
            store,
            bench_settings(work),
            SnapshotRequest(url=server.url(), pages_per_job=per_job, concurrency=concurrency),
        )
    finally:
        store.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "ZENODO_EXPORT_DATA_DIR": str(work / "data"),
        "ZENODO_TOKEN": "unused-by-snapshots",
        "ZENODO_EXPORT_POLL_INTERVAL": "0.05",
    }
    process = subprocess.Popen([*CLI, "worker", "--burst"], env=env, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)  # ru_maxrss: the child's VmHWM, in KiB
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, f"worker exited with {process.returncode}"
    return usage.ru_maxrss / 1024


def timed_crawls(
    server: ApiProcess, work: Path, *, concurrency: int, per_job: int, repeat: int
) -> tuple[float, float, bool, int]:
    """Alternate sequential and concurrent crawls; return their medians, same-bytes and size."""
    sequential, concurrent, same = [], [], True
    for run in range(repeat):
        seq_s, seq_dump = crawl_here(server, work / f"seq{run}", concurrency=1, per_job=per_job)
        con_s, con_dump = crawl_here(
            server, work / f"con{run}", concurrency=concurrency, per_job=per_job
        )
        sequential.append(seq_s)
        concurrent.append(con_s)
        same = same and filecmp.cmp(seq_dump, con_dump, shallow=False)
    size = seq_dump.stat().st_size
    return statistics.median(sequential), statistics.median(concurrent), same, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--big-pages", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per page")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pages-per-job", type=int, default=40)
    parser.add_argument("--per-page", type=int, default=20, help="items per page")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (medians)")
    args = parser.parse_args()

    per_job, concurrency = args.pages_per_job, args.concurrency
    shape = {"per_page": args.per_page, "latency": args.latency}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with ApiProcess(pages=args.pages, **shape) as server:
            sequential, concurrent, same, size = timed_crawls(
                server, work, concurrency=concurrency, per_job=per_job, repeat=args.repeat
            )
            small = worker_peak_mb(server, work / "small", concurrency=concurrency, per_job=per_job)
        with ApiProcess(pages=args.big_pages, **shape) as server:
            big = worker_peak_mb(server, work / "big", concurrency=concurrency, per_job=per_job)

    print(
        f"crawl of {args.pages} pages, {args.latency * 1000:.0f} ms per page, {per_job} per job, "
        f"median of {args.repeat} alternating runs:"
    )
    print(f"  sequential (concurrency 1)  {sequential:7.3f} s")
    print(f"  concurrency {concurrency:<2}              {concurrent:7.3f} s")
    print(f"  speed-up                    {sequential / concurrent:7.2f}x  (goal >= 6x)")
    print(f"  dumps byte-identical        {'yes' if same else 'NO'} ({size} bytes)")
    print(f"worker peak RSS (VmHWM), concurrency {concurrency}:")
    print(f"  {args.pages:>6} pages  {small:7.1f} MB")
    print(f"  {args.big_pages:>6} pages  {big:7.1f} MB")
    print(f"  ratio big/small    {big / small:7.3f}   (goal: flat, <= 1.10)")


if __name__ == "__main__":
    main()

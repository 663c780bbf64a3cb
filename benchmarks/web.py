"""Benchmark ``serve`` on a large PostgreSQL database: pages, the API, the overview, /metrics.

Seeds a fresh PostgreSQL database with 100,000 exports (90 % published, 5 % failed, 5 %
queued, over 200 names) and 10,000 alerts, starts a real ``zenodo-export serve`` on it, signs
in through the form, and asks each of these 50 times (after 5 warm-up requests):

* the exports list: first, middle and last page (``/exports``, keyset cursors);
* an export's page (a failed one, with its alerts and other versions);
* the API's export list, first and middle page (``/api/v1/exports``);
* the overview (``/``) and ``/metrics``.

Each answer's server time is its ``Server-Timing: app;dur=`` header (the application's time,
without the client's); the reference measured in the same run is a bare ``SELECT 1`` round
trip from this process to the same database. Goals (issue 12): under 100 ms median and p95
for each list and page, under 150 ms for the overview, under 100 ms for /metrics.

    python benchmarks/web.py                    # 100,000 exports, 10,000 alerts
    python benchmarks/web.py --exports 10000    # smaller
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import insert

from zenodo_export.store import Store
from zenodo_export.store.models import Alert, DataExport, Job
from zenodo_export.store.tokens import create_token

CLI = [sys.executable, "-m", "zenodo_export"]
ADMIN = os.environ.get(
    "ZENODO_EXPORT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TIMED, WARM = 50, 5
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
DURATION = re.compile(r"app;dur=([\d.]+)")


def create_database() -> tuple[str, str]:
    """Create a fresh database; return its name and SQLAlchemy URL."""
    name = f"zx_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return name, f"{base}/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(url: str, exports: int, alerts: int) -> tuple[str, int]:
    """Fill the database; return an admin token and the id of a failed export with alerts."""
    store = Store.open(url, migrate=True)
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    rng = random.Random(7)
    rows, failed = [], []
    for i in range(1, exports + 1):
        made = start + dt.timedelta(minutes=30 * i)
        kind = rng.random()
        row = {
            "id": i, "type": "ZenodoDataExport", "name": f"report_{i % 200:03d}",
            "export_key": uuid.uuid4().hex, "created_at": made, "updated_at": made,
            "data": {"title": f"Monthly report {i}", "files": [f"/data/report_{i}.csv"],
                     "keywords": ["bench"], "creators": ["Bench, Mark"]},
            "uploads": {}, "attempts": 1,
        }  # fmt: skip
        if kind < 0.90:
            row |= {"started_exporting_at": made, "finished_exporting_at": made,
                    "url": f"https://zenodo.org/records/{i}", "doi": f"10.5281/zenodo.{i}",
                    "record_id": i, "deposition_id": i}  # fmt: skip
        elif kind < 0.95:
            row |= {"started_exporting_at": made, "failed_at": made, "last_error": "boom"}
            failed.append(i)
        rows.append(row)
    with store.transaction() as session:
        for chunk in range(0, len(rows), 5000):
            session.execute(insert(DataExport), rows[chunk : chunk + 5000])
        queued = [r["id"] for r in rows if "started_exporting_at" not in r]
        jobs = [{"kind": "data_export", "export_id": i, "payload": {}, "queue": "default",
                 "status": "queued", "attempts": 0, "run_at": start, "created_at": start,
                 "updated_at": start} for i in queued]  # fmt: skip
        if jobs:
            session.execute(insert(Job), jobs)
        notes = [{"uuid": str(uuid.uuid4()), "class_name": "zenodo_export.errors.ZenodoRejected",
                  "message": f"Zenodo refused deposition {n % 50}", "backtrace": "Traceback ...",
                  "level": "ERROR", "hostname": "bench", "export_id": failed[n % len(failed)],
                  "created_at": start + dt.timedelta(minutes=n), "resolved": n % 3 == 0}
                 for n in range(alerts)]  # fmt: skip
        session.execute(insert(Alert), notes)
        token = create_token(session, "bench", "admin")
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # what autovacuum does to a table of this age
    store.dispose()
    return token, failed[len(failed) // 2]


def start_serve(url: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENODO")}
    env |= {"DATABASE_URL": url, "ZENODO_EXPORT_DATA_DIR": str(folder), "HOME": str(folder),
            "ZENODO_EXPORT_LOG_LEVEL": "WARNING"}  # fmt: skip
    log = folder / "serve.log"
    process = subprocess.Popen([*CLI, "serve", "--port", "0"], env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"serving (http://127\.0\.0\.1:\d+)/", log.read_text())
        if found:
            return process, found.group(1)
        time.sleep(0.1)
    raise SystemExit(f"serve did not start: {log.read_text()}")


def timed(ask: Callable[[], httpx.Response]) -> list[float]:
    """Server times (ms) of ``TIMED`` answers, after ``WARM`` unmeasured ones."""
    for _ in range(WARM):
        ask().raise_for_status()
    times = []
    for _ in range(TIMED):
        answer = ask()
        answer.raise_for_status()
        found = DURATION.search(answer.headers.get("server-timing", ""))
        assert found, answer.headers
        times.append(float(found.group(1)))
    return times


def select_one(url: str) -> list[float]:
    """Round trips of ``SELECT 1`` from this process (ms)."""
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        for _ in range(WARM):
            conn.execute("SELECT 1").fetchone()
        times = []
        for _ in range(TIMED):
            began = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            times.append((time.perf_counter() - began) * 1000)
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exports", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=10_000)
    args = parser.parse_args()
    name, url = create_database()
    process = None
    try:
        began = time.monotonic()
        token, failed_id = seed(url, args.exports, args.alerts)
        print(f"seeded {args.exports:,} exports and {args.alerts:,} alerts in "
              f"{time.monotonic() - began:.0f} s (PostgreSQL database {name})")  # fmt: skip
        folder = Path(tempfile.mkdtemp(prefix="zx-bench-web-"))
        process, base = start_serve(url, folder)
        browser = httpx.Client(base_url=base, timeout=60)
        [csrf] = CSRF.findall(browser.get("/signin").text)
        browser.post("/signin", data={"token": token, "csrf": csrf, "next": "/"})
        api = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"})
        middle = args.exports // 2
        asks: dict[str, tuple[Callable[[], httpx.Response], float]] = {
            "exports list, first page": (lambda: browser.get("/exports"), 100),
            "exports list, middle page": (lambda: browser.get(f"/exports?before={middle}"), 100),
            "exports list, last page": (lambda: browser.get("/exports?oldest=true"), 100),
            "an export's page": (lambda: browser.get(f"/exports/{failed_id}"), 100),
            "API list, first page": (lambda: api.get("/api/v1/exports"), 100),
            "API list, middle page": (lambda: api.get(f"/api/v1/exports?before={middle}"), 100),
            "overview": (lambda: browser.get("/"), 150),
            "/metrics": (lambda: api.get("/metrics"), 100),
        }
        reference = select_one(url)
        ref = statistics.median(reference)
        print(f"\nreference: SELECT 1 round trip, median {ref:.2f} ms, p95 {p95(reference):.2f} ms")
        print(f"\n{'what':28} {'median ms':>10} {'p95 ms':>8} {'goal':>6} {'x SELECT 1':>11}  ok")
        for what, (ask, goal) in asks.items():
            times = timed(ask)
            median, high = statistics.median(times), p95(times)
            ok = "yes" if median < goal and high < goal else "NO"
            print(f"{what:28} {median:10.1f} {high:8.1f} {goal:6.0f} {median / ref:11.0f}  {ok}")
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=20)
        drop_database(name)


if __name__ == "__main__":
    main()

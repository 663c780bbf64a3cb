"""Chaos: many exports, several worker processes, random kills, Zenodo faults, database outages.

Runnable by hand at scale (it needs PostgreSQL, the distributed backend)::

    python -m tests.chaos.chaos --exports 100 --workers 4

and small in the test suite (``test_chaos.py``). While the exports run, a killer SIGKILLs a
random worker every few seconds and starts a new one, a faulter keeps adding one-shot
sandbox faults: 502/504 pages, 429s with Retry-After, uploads dropped mid-body, create and
publish answers lost after the work was done, latency; and the workers reach PostgreSQL
through a TCP proxy that, every few seconds, drops every connection and refuses new ones for
one to three seconds (a restart or fail-over). Then the checks: every export done,
exactly one published record per export and none unaccounted for, no draft left after the
janitor, every file's md5 right, and exports of one name are versions of one concept.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from tests.fixtures.proxy import TcpProxy
from zenodo_export.exports.janitor import run_janitor
from zenodo_export.exports.service import create_and_queue
from zenodo_export.sandbox import RunningSandbox, build_config, run_in_thread
from zenodo_export.store import Store, list_exports
from zenodo_export.zenodo import ZenodoClient

CLI = [sys.executable, "-m", "zenodo_export"]

FAULTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("502 on any call", {"method": "*", "path": "^/api/", "action": "fail", "status": 502}),
    ("504 on create", {"method": "POST", "path": "/deposit/depositions$", "action": "fail"}),
    (
        "429 on any call",
        {"method": "*", "path": "^/api/", "action": "fail", "status": 429, "retry_after": 1},
    ),
    (
        "dropped upload",
        {"method": "PUT", "path": "^/api/files/", "action": "drop", "after_bytes": 20_000},
    ),
    (
        "lost create answer",
        {"method": "POST", "path": "/deposit/depositions$", "action": "lost_response"},
    ),
    (
        "lost publish answer",
        {"method": "POST", "path": "/actions/publish$", "action": "lost_response"},
    ),
    ("504 on publish", {"method": "POST", "path": "/actions/publish$", "action": "fail"}),
    ("slow upload", {"method": "PUT", "path": "^/api/files/", "action": "latency", "seconds": 2.0}),
)
"""The faults the faulter picks from, each hitting one request."""


@dataclass
class ChaosReport:
    """What happened and what the checks found."""

    exports: int = 0
    workers_started: int = 0
    workers_killed: int = 0
    outages: int = 0
    outage_seconds: float = 0.0
    faults: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    attempts: int = 0
    rate_limited: int = 0
    sandbox_requests: int = 0
    orphans_deleted: int = 0
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Return the report as text lines."""
        fault_text = ", ".join(f"{n} {name}" for name, n in sorted(self.faults.items()))
        return [
            f"exports: {self.exports} in {self.seconds:.1f} s",
            f"worker processes: {self.workers_started} started, {self.workers_killed} "
            "SIGKILLed mid-work",
            f"faults injected: {sum(self.faults.values())} ({fault_text})",
            f"database outages: {self.outages}, {self.outage_seconds:.1f} s in all",
            f"sandbox: {self.sandbox_requests} API requests, {self.rate_limited} answered 429",
            f"attempts used by exports: {self.attempts} (beyond one each: "
            f"{self.attempts - self.exports})",
            f"orphan drafts deleted by the janitor: {self.orphans_deleted}",
            "checks: " + ("all passed" if not self.problems else "; ".join(self.problems)),
        ]


def worker_environment(
    database_url: str, sandbox: RunningSandbox, data_dir: Path
) -> dict[str, str]:
    """Settings for worker processes: short leases and back-offs so that chaos resolves fast."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENODO_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=database_url,
        ZENODO_URL=sandbox.api_url,
        ZENODO_TOKEN=sandbox.token,
        ZENODO_EXPORT_DATA_DIR=str(data_dir),
        ZENODO_EXPORT_LEASE_SECONDS="3",
        ZENODO_EXPORT_RETRY_DELAY_SCALE="0.02",
        ZENODO_EXPORT_RETRY_BASE_SECONDS="0",
        ZENODO_EXPORT_SETTLE_SECONDS="3",
        ZENODO_EXPORT_DEFER_SECONDS="0.5",
        ZENODO_EXPORT_POLL_INTERVAL="0.1",
        ZENODO_EXPORT_HTTP_TIMEOUT="15",
        ZENODO_EXPORT_MAX_ATTEMPTS="50",
        ZENODO_EXPORT_RATE_LIMITS="off",
    )
    return env


class Workers:
    """A pool of `zenodo-export worker` processes, some of which get killed."""

    def __init__(self, env: dict[str, str], count: int, log_dir: Path, rng: random.Random):
        self.env, self.log_dir, self.rng = env, log_dir, rng
        self.processes: list[subprocess.Popen[bytes]] = []
        self.started = self.killed = 0
        for _ in range(count):
            self.processes.append(self._start())

    def _start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        with (self.log_dir / f"worker-{self.started}.log").open("wb") as log:
            return subprocess.Popen(
                [*CLI, "worker"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def kill_one(self) -> None:
        """SIGKILL a random worker and start a new one in its place."""
        index = self.rng.randrange(len(self.processes))
        self.processes[index].kill()
        self.processes[index].wait()
        self.killed += 1
        self.processes[index] = self._start()

    def stop(self) -> None:
        """Terminate every worker (they finish what they run) and wait for them."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def make_exports(
    store: Store, work: Path, count: int, rng: random.Random
) -> dict[int, dict[str, str]]:
    """Queue ``count`` exports of 1-3 random files (a few names shared: versions)."""
    expected: dict[int, dict[str, str]] = {}
    for n in range(count):
        folder = work / "files" / f"export-{n}"
        folder.mkdir(parents=True)
        md5s = {}
        for k in range(rng.randint(1, 3)):
            data = rng.randbytes(rng.randint(1_000, 200_000))
            (folder / f"part-{k}.bin").write_bytes(data)
            md5s[f"part-{k}.bin"] = hashlib.md5(data).hexdigest()
        name = f"series-{n % 5}" if n % 4 == 0 else f"export-{n}"
        export_id = create_and_queue(
            store,
            name=name,
            files=[str(folder / key) for key in md5s],
            title=f"Chaos {n}",
            description="chaos test",
            creators=["Chaos, Monkey"],
            keywords=["chaos"],
            publication_date="2026-11-24",
            code_repository_url="https://example.org/chaos",
        )
        expected[export_id] = md5s
    return expected


def all_done(store: Store) -> bool:
    with store.transaction() as session:
        return all(e.state == "done" for e in list_exports(session, limit=100_000))


def run_chaos(
    database_url: str,
    *,
    exports: int,
    workers: int,
    seed: int,
    timeout: float,
    kill_every: float = 3.0,
    fault_every: float = 0.4,
    outage_every: float = 6.0,
) -> ChaosReport:
    """Run the chaos and the checks; return the report (problems listed, never raised)."""
    rng = random.Random(seed)
    report = ChaosReport(exports=exports)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = build_config(
            work / "sandbox", rate_limits=["off"], list_lag_seconds=0.5, body_idle_timeout=5
        )
        with run_in_thread(config) as sandbox:
            store = Store.open(database_url)
            url = make_url(database_url)
            proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432)).start()
            through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
            try:
                expected = make_exports(store, work, exports, rng)
                started = time.monotonic()
                pool = Workers(worker_environment(through, sandbox, work), workers, work, rng)
                stir = Stir(store, sandbox, pool, proxy, report, rng)
                try:
                    stir.run(timeout, kill_every, fault_every, outage_every)
                finally:
                    sandbox.admin("DELETE", "faults")
                    stir.calm()
                    _finish(store, timeout)
                    pool.stop()
                    proxy.close()
                report.seconds = time.monotonic() - started
                report.workers_started, report.workers_killed = pool.started, pool.killed
                _check(store, sandbox, expected, report)
            finally:
                store.dispose()
    return report


def pending_faults(sandbox: RunningSandbox) -> int:
    """Count the fault rules no request has hit yet."""
    return sum(1 for rule in sandbox.admin("GET", "faults")["faults"] if rule["hits"] == 0)


@dataclass
class Stir:
    """The chaos itself: faults, kills and outages until the exports are done or time is up."""

    store: Store
    sandbox: RunningSandbox
    pool: Workers
    proxy: TcpProxy
    report: ChaosReport
    rng: random.Random
    outage: Any = None

    def run(
        self, timeout: float, kill_every: float, fault_every: float, outage_every: float
    ) -> None:
        """Stir until every export is done or ``timeout`` seconds passed."""
        now = time.monotonic()
        deadline = now + timeout
        next_kill, next_outage = (
            now + kill_every / 2,
            now + outage_every / 4,
        )  # chaos from the start
        while time.monotonic() < deadline and not all_done(self.store):
            if pending_faults(self.sandbox) < 2:  # a steady drizzle, not a wall
                name, rule = self.rng.choice(FAULTS)
                self.sandbox.add_fault({**rule, "times": 1})
                self.report.faults[name] += 1
            if time.monotonic() >= next_kill:
                self.pool.kill_one()
                next_kill = time.monotonic() + self.rng.uniform(0.5, 1.5) * kill_every
            if time.monotonic() >= next_outage and not self._in_outage():
                seconds = self.rng.uniform(1.0, 3.0)
                self.outage = self.proxy.cut_in_background(seconds)
                self.report.outages += 1
                self.report.outage_seconds += seconds
                next_outage = time.monotonic() + seconds + self.rng.uniform(0.5, 1.5) * outage_every
            time.sleep(fault_every)

    def _in_outage(self) -> bool:
        return self.outage is not None and self.outage.is_alive()

    def calm(self) -> None:
        """Wait for the outage under way to end."""
        if self.outage is not None:
            self.outage.join()


def _finish(store: Store, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all_done(store):
        time.sleep(0.5)


def _check(
    store: Store, sandbox: RunningSandbox, expected: dict[int, dict[str, str]], report: ChaosReport
) -> None:
    with ZenodoClient(sandbox.api_url, sandbox.token) as client:
        report.orphans_deleted = len(run_janitor(store, client, grace_seconds=0).orphans)
    stats = httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()
    report.rate_limited, report.sandbox_requests = stats["rate_limited"], stats["requests"]
    depositions = {d["id"]: d for d in sandbox.admin("GET", "depositions")}
    with store.transaction() as session:
        rows = list_exports(session, limit=100_000)
        report.attempts = sum(max(e.attempts, 1) for e in rows)
        records = {e.id: (e.state, e.record_id, e.name, e.concept_rec_id) for e in rows}
    problems = report.problems
    problems += [f"export {i} ended {s}" for i, (s, *_) in records.items() if s != "done"]
    published = {i for i, d in depositions.items() if d["submitted"]}
    owned = [r for _, r, _, _ in records.values()]
    if sorted(owned) != sorted(published):
        problems.append(f"published records {sorted(published)} != exports' {sorted(owned)}")
    drafts = [i for i, d in depositions.items() if not d["submitted"]]
    if drafts:
        problems.append(f"drafts left after the janitor: {drafts}")
    for export_id, md5s in expected.items():
        record = depositions.get(records[export_id][1] or -1, {"files": []})
        got = {f["key"]: f["checksum"].removeprefix("md5:") for f in record["files"]}
        if got != md5s:
            problems.append(f"export {export_id}: files {got} != {md5s}")
    concepts: dict[str, set[str | None]] = {}
    for _, _, name, concept in records.values():
        concepts.setdefault(name, set()).add(concept)
    problems += [f"name {n} has concepts {c}" for n, c in concepts.items() if len(c) != 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/zx_chaos"
    )
    parser.add_argument("--exports", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    fresh_database(args.database_url)
    report = run_chaos(
        args.database_url,
        exports=args.exports,
        workers=args.workers,
        seed=args.seed,
        timeout=args.timeout,
    )
    print("\n".join(report.lines()))
    sys.exit(1 if report.problems else 0)


def fresh_database(url: str) -> None:
    """Drop and create the database named in a PostgreSQL URL."""
    import psycopg

    base, name = url.rsplit("/", 1)
    admin = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()

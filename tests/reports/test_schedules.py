"""Schedules fire each period exactly once, catch up missed periods, and run as normal jobs."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.fixtures.cli import CLI, sandbox_environment
from tests.fixtures.jobs import claimed_context
from tests.pipeline.conftest import run_burst
from tests.reports.conftest import (
    LAGOTTO,
    create_works,
    report_config,
    report_settings,
    write_config,
)
from zenodo_export.config_file import load_config_file, monthly_rule
from zenodo_export.reports import KIND, perform_report
from zenodo_export.schedules import (
    Fired,
    Schedule,
    ScheduleTicker,
    due_periods,
    fire_due,
    period_key,
)
from zenodo_export.schedules.configured import report_schedules
from zenodo_export.store import Job, Store, ZenodoDataExport
from zenodo_export.store.models import ScheduleRun

UTC = dt.UTC
MONTHLY = monthly_rule(10, "02:50")
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def record_history(store: Store, due: dt.datetime) -> None:
    """Record that ``reports.stats`` ran for the period at ``due``."""
    with store.transaction() as session:
        session.add(ScheduleRun(schedule="reports.stats", period=period_key(due), due_at=due))


def runs(store: Store) -> list[tuple[str, int | None]]:
    """Return every recorded period of ``reports.stats`` with its export, oldest first."""
    with store.transaction() as session:
        rows = session.scalars(select(ScheduleRun).order_by(ScheduleRun.due_at))
        return [(row.period, row.export_id) for row in rows]


def report_jobs(store: Store) -> list[Job]:
    with store.transaction() as session:
        return list(session.scalars(select(Job).where(Job.kind == KIND).order_by(Job.id)))


def ticker(store: Store, settings: Any, now: dt.datetime = NOW) -> ScheduleTicker:
    """A schedule duty for the configured reports, with the clock at ``now``."""
    schedules = report_schedules(load_config_file(settings))
    return ScheduleTicker(store, schedules, interval=3600, clock=lambda: now)


@pytest.fixture
def monthly_settings(sqlite_store: Store, sqlite_url: str, sandbox: Any, tmp_path: Path) -> Any:
    """Settings whose config has the ``stats`` report on Lagotto's monthly schedule."""
    create_works(sqlite_url)
    config = write_config(tmp_path, report_config(sqlite_url, schedule="monthly"))
    return report_settings(sandbox, tmp_path, config)


def test_missed_month_is_caught_up_at_start_and_published(
    sqlite_store: Store, monthly_settings: Any
) -> None:
    """Last run in September, back on Nov 20: October's and November's reports are published."""
    record_history(sqlite_store, dt.datetime(2026, 9, 10, 2, 50, tzinfo=UTC))
    ticker(sqlite_store, monthly_settings)()
    assert [period for period, _ in runs(sqlite_store)] == [
        "2026-09-10T02:50Z",
        "2026-10-10T02:50Z",
        "2026-11-10T02:50Z",
    ]
    assert run_burst(sqlite_store, monthly_settings).counts == {"done": 4}
    exports = dict(runs(sqlite_store)[1:])
    with sqlite_store.transaction() as session:
        titles = [session.get(ZenodoDataExport, exports[p]).title for p in sorted(exports)]
        published = session.scalars(select(ZenodoDataExport.concept_doi)).all()
    assert titles == [
        "Cumulative PLOS ALM Report - October 2026",
        "Cumulative PLOS ALM Report - November 2026",
    ]
    assert len(published) == 2 and len(set(published)) == 1  # two versions of one concept


def test_two_workers_fire_a_period_once_and_a_worker_throttles(
    sqlite_store: Store, monthly_settings: Any
) -> None:
    """Two tickers (two workers) on one period: one row, one job; a second look is throttled."""
    first, second = ticker(sqlite_store, monthly_settings), ticker(sqlite_store, monthly_settings)
    first()
    second()
    assert [period for period, _ in runs(sqlite_store)] == ["2026-11-10T02:50Z"]
    assert len(report_jobs(sqlite_store)) == 1
    later = ticker(sqlite_store, monthly_settings, now=NOW + dt.timedelta(days=30))
    later()
    later.clock = lambda: NOW + dt.timedelta(days=60)
    later()  # within its interval: does not look again
    assert len(runs(sqlite_store)) == 2


def test_report_job_run_again_reuses_its_periods_export(
    sqlite_store: Store, monthly_settings: Any
) -> None:
    """A report job that runs again after its commit queues no second export for its period."""
    ticker(sqlite_store, monthly_settings)()
    context = claimed_context(sqlite_store, monthly_settings, kinds=[KIND])
    perform_report(context)
    perform_report(context)
    with sqlite_store.transaction() as session:
        assert len(session.scalars(select(ZenodoDataExport)).all()) == 1
    assert runs(sqlite_store)[0][1] is not None


def test_racing_workers_fire_each_missed_period_once(store: Store, tmp_path: Path) -> None:
    """Eight threads fire the same two missed periods at once: two rows, two jobs in all."""
    schedule = Schedule("reports.stats", MONTHLY, KIND, "stats", "monthly")
    record_history(store, dt.datetime(2026, 9, 10, 2, 50, tzinfo=UTC))
    start = threading.Barrier(8)

    def fire() -> list[Fired]:
        start.wait()
        return fire_due(store, [schedule], now=NOW)

    with ThreadPoolExecutor(8) as pool:
        fired = [item for result in pool.map(lambda _: fire(), range(8)) for item in result]
    assert sorted(item.period for item in fired) == ["2026-10-10T02:50Z", "2026-11-10T02:50Z"]
    assert len(runs(store)) == 3 and len(report_jobs(store)) == 2


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker processes started by the test; all are killed at teardown."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.postgres
def test_two_worker_processes_catch_up_each_missed_period_exactly_once(
    postgres_url: str, sandbox: Any, tmp_path: Path, workers: list[subprocess.Popen[bytes]]
) -> None:
    """Two real workers on one PostgreSQL: each missed month fires once and is published once."""
    create_works(postgres_url)
    store = Store.open(postgres_url)
    now = dt.datetime.now(UTC)
    latest_two = due_periods(MONTHLY, last=now - dt.timedelta(days=100), now=now, max_catch_up=2)
    before = due_periods(
        MONTHLY, last=None, now=latest_two[0] - dt.timedelta(seconds=1), max_catch_up=1
    )
    record_history(store, before[0])
    config = write_config(tmp_path, report_config(postgres_url, schedule="monthly"))
    env = {
        **sandbox_environment(sandbox, tmp_path),
        "DATABASE_URL": postgres_url,
    }
    env.update(
        ZENODO_EXPORT_CONFIG=str(config),
        ZENODO_EXPORT_SCHEDULE_TICK_SECONDS="0.1",
        ZENODO_EXPORT_DEFER_SECONDS="0.2",
        **{name.upper(): value for name, value in LAGOTTO.items()},
    )
    log = tmp_path / "workers.log"
    with log.open("ab") as output:
        for _ in range(2):
            workers.append(
                subprocess.Popen([*CLI, "worker"], env=env, stdout=output, stderr=output)
            )
    try:
        deadline = time.monotonic() + 45
        while True:  # one read per look: a period may be added between two reads
            fired = runs(store)
            if len(fired) >= 3 and all(export_id for _, export_id in fired[1:]):
                break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        ids = [export_id for _, export_id in fired[1:]]
        while any(state != "done" for state in _states(store, ids)):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            assert process.wait(timeout=30) == 0, log.read_text()
        assert [period for period, _ in runs(store)] == [period_key(d) for d in before + latest_two]
        assert len(report_jobs(store)) == 2
        with store.transaction() as session:
            assert len(session.scalars(select(ZenodoDataExport)).all()) == 2
    finally:
        store.dispose()


def _states(store: Store, ids: list[Any]) -> list[str]:
    with store.transaction() as session:
        return [session.get(ZenodoDataExport, export_id).state for export_id in ids]

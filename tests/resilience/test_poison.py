"""A job that kills its worker every time ends failed at the maximum, with an alert that says so."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.fixtures.cli import CLI, sandbox_environment
from tests.fixtures.database import opened_store
from tests.pipeline.conftest import add_fault, queue
from tests.resilience.test_database_outage import make_file, start_workers, wait_until
from zenodo_export.store import Job, get_export, list_alerts

MAX_ATTEMPTS = 3


def attempts_of_running_job(url: str) -> int:
    """Return the attempts of the export's job while a worker holds it, else 0."""
    with opened_store(url) as store, store.transaction() as session:
        job = session.scalars(select(Job).where(Job.kind == "data_export")).one()
        return job.attempts if job.status == "running" else 0


def test_a_job_whose_worker_dies_every_time_fails_at_the_maximum(
    database_url: str, sandbox: Any, tmp_path: Path
) -> None:
    """Killed mid-upload on every attempt: after the maximum the next worker fails the job."""
    add_fault(sandbox, method="PUT", path=r"/api/files/", action="latency", seconds=60, times=None)
    with opened_store(database_url) as store:
        export_id = queue(store, [make_file(tmp_path, "heavy.csv", 3000)])
    env = {
        **sandbox_environment(
            sandbox,
            tmp_path,
            ZENODO_EXPORT_LEASE_SECONDS="1",
            ZENODO_EXPORT_MAX_ATTEMPTS=str(MAX_ATTEMPTS),
        ),
        "DATABASE_URL": database_url,
    }
    log = tmp_path / "workers.log"
    for attempt in range(1, MAX_ATTEMPTS + 1):  # each worker takes the job, then dies (OOM...)
        [worker] = start_workers(env, log, 1)
        wait_until(lambda n=attempt: attempts_of_running_job(database_url) == n, log, timeout=30)
        time.sleep(0.5)
        worker.kill()
        worker.wait(timeout=10)
        time.sleep(1.2)  # its lease runs out
    finished = subprocess.run(
        [*CLI, "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    with opened_store(database_url) as store, store.transaction() as session:
        export = get_export(session, export_id)
        job = session.scalars(select(Job).where(Job.kind == "data_export")).one()
        assert export.state == "failed" and job.status == "failed"
        assert (job.attempts, job.lost_count) == (MAX_ATTEMPTS, MAX_ATTEMPTS)
        [alert] = list_alerts(session, export_id=export_id)
    assert alert.class_name == "zenodo_export.errors.WorkerLost"
    assert f"lost {MAX_ATTEMPTS} time(s)" in alert.message and "last on host" in alert.message

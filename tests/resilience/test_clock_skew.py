"""Leases are measured by the database's clock: a worker whose clock is wrong steals nothing."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import sandbox_environment
from tests.fixtures.database import opened_store
from tests.pipeline.conftest import add_fault, all_depositions, queue
from tests.resilience.test_database_outage import (
    hits_by_path,
    make_file,
    start_workers,
    states,
    stop,
    wait_until,
)

pytestmark = pytest.mark.postgres

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")


def require_faketime() -> None:
    """Skip without libfaketime (Debian's ``faketime``), except in CI where it must run."""
    if LIBFAKETIME.exists() and shutil.which("faketime"):
        return
    if os.environ.get("CI"):
        pytest.fail("libfaketime is required in CI (apt-get install faketime)")
    pytest.skip("libfaketime not installed (apt-get install faketime)")


@pytest.mark.slow
def test_a_worker_90_s_ahead_does_not_take_a_job_being_heartbeaten(
    postgres_url: str, sandbox: Any, tmp_path: Path
) -> None:
    """Worker B's clock runs 90 s ahead of A's: A's live lease stays A's; one upload, once."""
    require_faketime()
    add_fault(sandbox, method="PUT", path=r"/slow\.csv$", action="latency", seconds=8.0, times=None)
    with opened_store(postgres_url) as store:
        export_id = queue(store, [make_file(tmp_path, "slow.csv", 4000)])
        env = {
            **sandbox_environment(sandbox, tmp_path, ZENODO_EXPORT_LEASE_SECONDS="3"),
            "DATABASE_URL": postgres_url,
        }
        a_log, b_log = tmp_path / "a.log", tmp_path / "b.log"
        workers = start_workers(env, a_log, 1)
        try:
            wait_until(lambda: hits_by_path(sandbox)[r"/slow\.csv$"] == 1, a_log, 60)
            ahead = {**env, "LD_PRELOAD": str(LIBFAKETIME), "FAKETIME": "+90s"}
            workers += start_workers(ahead, b_log, 1)
            time.sleep(4.0)  # longer than the lease: B looks many times while A heartbeats
            wait_until(lambda: states(store, [export_id]) == ["done"], a_log, 60)
        finally:
            codes = stop(workers)
        assert codes == [0, 0], a_log.read_text() + b_log.read_text()
        assert hits_by_path(sandbox)[r"/slow\.csv$"] == 1
        assert len(all_depositions(sandbox)) == 1
    assert "claimed data_export" in a_log.read_text()
    assert "claimed data_export" not in b_log.read_text(), b_log.read_text()

"""A worker started while its database is away waits for it; one with wrong settings stops."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import CLI, sandbox_environment
from tests.fixtures.database import opened_store
from tests.fixtures.proxy import TcpProxy
from tests.pipeline.conftest import queue
from tests.resilience.test_database_outage import make_file, start_workers, states, stop, wait_until

pytestmark = pytest.mark.postgres


def test_a_worker_started_during_an_outage_waits_for_the_database(
    postgres_url: str,
    postgres_proxy: tuple[TcpProxy, str],
    sandbox: Any,
    tmp_path: Path,
) -> None:
    """The database refuses connections when the worker starts: it waits, then works."""
    proxy, through_proxy = postgres_proxy
    with opened_store(postgres_url) as store:
        export_id = queue(store, [make_file(tmp_path, "a.csv", 1000)])
        outage = proxy.cut_in_background(4.0)
        log = tmp_path / "worker.log"
        workers = start_workers(
            {**sandbox_environment(sandbox, tmp_path), "DATABASE_URL": through_proxy}, log, 1
        )
        try:
            outage.join()
            wait_until(lambda: states(store, [export_id]) == ["done"], log, 60)
        finally:
            codes = stop(workers)
    assert codes == [0], log.read_text()
    text = log.read_text()
    assert "database unavailable" in text and "database available again" in text, text


def test_a_worker_whose_database_does_not_exist_stops_with_one_line(
    postgres_url: str, sandbox: Any, tmp_path: Path
) -> None:
    """A database that does not exist is a setting to fix: exit 3 at once, no traceback."""
    missing = postgres_url.rsplit("/", 1)[0] + "/zx_no_such_database"
    env = {**sandbox_environment(sandbox, tmp_path), "DATABASE_URL": missing}
    result = subprocess.run([*CLI, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    assert "DATABASE_URL:" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr

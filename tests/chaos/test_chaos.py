"""Chaos, small: exports on PostgreSQL through killed workers and an unreliable Zenodo."""

from __future__ import annotations

import pytest

from tests.chaos.chaos import run_chaos


@pytest.mark.postgres
@pytest.mark.slow
def test_every_export_is_published_exactly_once_through_chaos(postgres_url: str) -> None:
    """Killed workers, Zenodo faults, database outages: all done once each, md5s right."""
    report = run_chaos(
        postgres_url, exports=30, workers=3, seed=7, timeout=150, kill_every=2.0, outage_every=4.0
    )
    print("\n".join(report.lines()))
    assert report.problems == []
    assert report.workers_killed >= 1 and sum(report.faults.values()) >= 5  # chaos did happen
    assert report.outages >= 1

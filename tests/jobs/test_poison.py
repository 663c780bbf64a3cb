"""Poison jobs: a job whose workers keep getting lost fails for good, with an alert that says so."""

from __future__ import annotations

import time

from tests.fixtures.exports import Attributes
from tests.jobs.conftest import MakeSettings
from tests.jobs.helpers import LEASE, SHORT, outlive, queued, row, take
from zenodo_export.exports.kinds import DataExportJob, register
from zenodo_export.jobs import JobKind, JobRunner, Lease, Registry
from zenodo_export.jobs.context import JobContext
from zenodo_export.store import Store, ZenodoDataExport, get_export, list_alerts

MAX_ATTEMPTS = 2


def _abandon(store: Store, *workers: str) -> None:
    """Claim the ready job as each worker in turn and let its lease run out (a killed worker)."""
    for number, worker in enumerate(workers, start=1):
        job = take(store, worker, lease=SHORT, max_attempts=MAX_ATTEMPTS)
        assert job is not None, f"claim {number} found nothing"
        assert job.exhausted is None
        assert (job.attempts, job.lost_count) == (number, number - 1)
        outlive()


def test_a_job_lost_max_attempts_times_is_handed_over_exhausted(store: Store) -> None:
    """After ``max_attempts`` lost leases the next claim is exhausted, naming the last host."""
    job_id = queued(store)
    _abandon(store, "alpha:101:aaaaaa", "bravo:202:bbbbbb")
    job = take(store, "charlie:303:cccccc", max_attempts=MAX_ATTEMPTS)
    assert job is not None and job.id == job_id
    assert (job.attempts, job.lost_count) == (MAX_ATTEMPTS, MAX_ATTEMPTS)
    assert job.exhausted is not None
    assert f"lost {MAX_ATTEMPTS} time(s)" in job.exhausted
    assert "host bravo" in job.exhausted and "alpha" not in job.exhausted
    assert row(store, job_id).attempts == MAX_ATTEMPTS


def test_an_exhausted_export_job_fails_for_good_with_an_alert(
    store: Store, attributes: Attributes, make_settings: MakeSettings
) -> None:
    """Running an exhausted export job fails it and its export, with a "lost N time(s)" alert."""
    with store.transaction() as session:
        export_id = ZenodoDataExport.create(session, **attributes()).id
        job_id = DataExportJob.perform_later(session, id=export_id).id
    _abandon(store, "alpha:101:aaaaaa", "bravo:202:bbbbbb")
    sent = time.monotonic()
    job = take(store, "charlie:303:cccccc", max_attempts=MAX_ATTEMPTS)
    assert job is not None and job.exhausted is not None
    registry = Registry()
    register(registry)
    runner = JobRunner(store, make_settings(max_attempts=MAX_ATTEMPTS), registry)
    outcome = runner.perform(job, Lease(store, job, lease_seconds=LEASE, sent_at=sent))
    assert outcome.result == "failed"
    failed = row(store, job_id)
    assert failed.status == "failed"
    assert failed.last_error is not None and f"lost {MAX_ATTEMPTS} time(s)" in failed.last_error
    with store.transaction() as session:
        export = get_export(session, export_id)
        assert export.state == "failed"
        assert export.last_error == failed.last_error
        alerts = list_alerts(session, export_id=export_id)
    assert len(alerts) == 1
    assert alerts[0].class_name.endswith("WorkerLost")
    assert f"lost {MAX_ATTEMPTS} time(s)" in alerts[0].message
    assert "host bravo" in alerts[0].message
    assert take(store, max_attempts=MAX_ATTEMPTS) is None


def test_an_exhausted_job_is_not_performed_again(store: Store, make_settings: MakeSettings) -> None:
    """The kind of an exhausted job is never run: the job fails without its ``perform``."""
    calls: list[int] = []

    def perform(context: JobContext) -> None:
        calls.append(context.job.id)

    job_id = queued(store, "test_poison")
    _abandon(store, "alpha:1:a", "bravo:2:b")
    sent = time.monotonic()
    job = take(store, "charlie:3:c", max_attempts=MAX_ATTEMPTS)
    assert job is not None
    runner = JobRunner(
        store,
        make_settings(max_attempts=MAX_ATTEMPTS),
        Registry((JobKind("test_poison", perform),)),
    )
    outcome = runner.perform(job, Lease(store, job, lease_seconds=LEASE, sent_at=sent))
    assert (outcome.result, calls) == ("failed", [])
    assert row(store, job_id).status == "failed"
    with store.transaction() as session:
        (alert,) = list_alerts(session)
    assert "lost 2 time(s)" in alert.message and alert.export_id is None

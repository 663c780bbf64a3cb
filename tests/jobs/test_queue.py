"""The durable job queue, run against SQLite and PostgreSQL alike, by the database's clock."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from tests.fixtures.exports import Attributes
from tests.jobs.helpers import (
    LEASE,
    SHORT,
    between,
    hours,
    near,
    outlive,
    queued,
    row,
    settle,
    take,
)
from tests.store.workers import run_together
from zenodo_export.clock import utcnow
from zenodo_export.errors import LeaseLost, NotFound
from zenodo_export.exports.kinds import DataExportJob
from zenodo_export.jobs import (
    active_job_for_export,
    enqueue,
    list_jobs,
    next_run_at,
    ready_count,
    release,
)
from zenodo_export.jobs.queue import complete_in, earliest, fail_in, heartbeat, retry_in
from zenodo_export.store import Store, ZenodoDataExport


def _export_id(store: Store, attributes: Attributes) -> int:
    with store.transaction() as session:
        return ZenodoDataExport.create(session, **attributes()).id


def test_enqueue_claim_complete(store: Store) -> None:
    """A queued job is claimed once with a lease, then completed and never claimed again."""
    job_id = queued(store, payload={"page": 3})
    before = utcnow()
    claimed = take(store, "w1")
    after = utcnow()
    assert claimed is not None
    assert (claimed.id, claimed.kind, claimed.payload, claimed.attempts) == (
        job_id,
        "ping",
        {"page": 3},
        1,
    )
    lease = dt.timedelta(seconds=LEASE)
    assert between(claimed.lease_expires_at, before + lease, after + lease)
    assert (row(store, job_id).status, row(store, job_id).locked_by) == ("running", "w1")
    assert take(store, "w2") is None
    before = utcnow()
    settle(store, lambda s: complete_in(s, claimed))
    after = utcnow()
    done = row(store, job_id)
    assert (done.status, done.lease_token, done.lease_expires_at) == ("done", None, None)
    assert between(done.finished_at, before, after)
    with pytest.raises(LeaseLost):
        settle(store, lambda s: complete_in(s, claimed))
    assert take(store, "w2") is None


def test_claim_takes_the_oldest_ready_job_of_the_given_kinds(store: Store) -> None:
    """Jobs are claimed oldest ``run_at`` first, and only of the kinds asked for."""
    base = hours(-1)
    late = queued(store, run_at=base + dt.timedelta(seconds=2))
    early = queued(store, run_at=base + dt.timedelta(seconds=1))
    other = queued(store, "other", run_at=base)
    claimed = [take(store, kinds=["ping"]), take(store, kinds=["ping"])]
    assert [job.id for job in claimed if job] == [early, late]
    assert take(store, kinds=["ping"]) is None
    last = take(store)
    assert last is not None and last.id == other


def test_claim_can_be_narrowed_to_one_export(store: Store, attributes: Attributes) -> None:
    """``export --wait`` claims only its own export's job, even when others are older."""
    first, second = _export_id(store, attributes), _export_id(store, attributes)
    with store.transaction() as session:
        DataExportJob.perform_later(session, id=first)
        DataExportJob.perform_later(session, id=second)
    mine = take(store, export_id=second)
    assert mine is not None and mine.export_id == second
    assert take(store, export_id=second) is None
    other = take(store)
    assert other is not None and other.export_id == first


def test_nothing_is_claimable_before_run_at(store: Store) -> None:
    """A job queued for later is neither ready nor claimable until its ``run_at`` comes."""
    far = hours(1)
    far_id = queued(store, run_at=far)
    assert take(store) is None
    with store.transaction() as session:
        assert ready_count(session) == 0
        assert next_run_at(session) == far
    soon = utcnow() + dt.timedelta(seconds=0.8)
    soon_id = queued(store, run_at=soon)
    assert take(store) is None
    with store.transaction() as session:
        assert ready_count(session) == 0
        assert next_run_at(session) == soon
    time.sleep(max(0.0, (soon - utcnow()).total_seconds()) + 0.05)
    with store.transaction() as session:
        assert ready_count(session) == 1
    claimed = take(store)
    assert claimed is not None and claimed.id == soon_id != far_id
    assert take(store) is None


def test_next_run_at_counts_running_leases(store: Store) -> None:
    """The next wake-up is the earliest due job or the earliest lease to run out."""
    with store.transaction() as session:
        assert next_run_at(session) is None
    queued(store, run_at=hours(-1))
    queued(store, "later", run_at=hours(1))
    claimed = take(store, kinds=["ping"])
    assert claimed is not None
    with store.transaction() as session:
        assert next_run_at(session) == claimed.lease_expires_at


def test_an_export_has_at_most_one_active_job(store: Store, attributes: Attributes) -> None:
    """Queueing an export's job twice returns the active one; after it ends, a new one is added."""
    export_id = _export_id(store, attributes)
    with store.transaction() as session:
        first = DataExportJob.perform_later(session, id=export_id)
        again = DataExportJob.perform_later(session, id=export_id)
        assert again.id == first.id
    assert queued(store, DataExportJob.KIND, export_id=export_id) == first.id
    claimed = take(store)
    assert claimed is not None
    assert queued(store, DataExportJob.KIND, export_id=export_id) == first.id
    settle(store, lambda s: complete_in(s, claimed))
    with store.transaction() as session:
        assert active_job_for_export(session, export_id) is None
        fresh = DataExportJob.perform_later(session, id=export_id)
        assert fresh.id != first.id
        assert active_job_for_export(session, export_id) is fresh
        assert len(list_jobs(session)) == 2


def test_jobs_without_export_are_never_deduplicated(store: Store) -> None:
    """Two jobs of the same kind without an export are two jobs."""
    assert queued(store) != queued(store)


def test_perform_later_needs_the_export(store: Store) -> None:
    """Queueing a job for an unknown export raises NotFound naming it."""
    with pytest.raises(NotFound, match="export 4242 does not exist"), store.transaction() as s:
        DataExportJob.perform_later(s, id=4242)


def test_export_and_job_roll_back_together(store: Store, attributes: Attributes) -> None:
    """An export created and queued in a transaction that fails leaves neither behind."""
    with pytest.raises(RuntimeError), store.transaction() as session:
        export = ZenodoDataExport.create(session, **attributes())
        DataExportJob.perform_later(session, id=export.id)
        raise RuntimeError("crash before commit")
    with store.transaction() as session:
        assert session.query(ZenodoDataExport).count() == 0
        assert list_jobs(session) == []


def test_expired_lease_passes_the_job_to_another_worker(store: Store) -> None:
    """A job whose lease ran out is claimed again; the old owner then cannot touch it."""
    job_id = queued(store)
    old = take(store, "killed", lease=SHORT)
    assert old is not None
    assert take(store, "new") is None
    outlive()
    new = take(store, "new")
    assert new is not None and new.id == job_id
    assert (new.attempts, new.lost_count, new.exhausted) == (2, 1, None)
    assert new.lease_token != old.lease_token
    assert not heartbeat(store, old, lease_seconds=LEASE)
    for write in (
        lambda s: complete_in(s, old),
        lambda s: fail_in(s, old, "late"),
        lambda s: retry_in(s, old, 0, error="late"),
    ):
        with pytest.raises(LeaseLost):
            settle(store, write)
    assert not release(store, old)
    assert (row(store, job_id).status, row(store, job_id).locked_by) == ("running", "new")
    before = utcnow()
    assert heartbeat(store, new, lease_seconds=2 * LEASE)
    after = utcnow()
    lease = dt.timedelta(seconds=2 * LEASE)
    assert between(row(store, job_id).lease_expires_at, before + lease, after + lease)
    settle(store, lambda s: complete_in(s, new))
    assert row(store, job_id).status == "done"


def test_heartbeat_keeps_the_lease(store: Store) -> None:
    """A job whose lease is renewed in time is not claimable by another worker."""
    queued(store)
    job = take(store, "w", lease=SHORT)
    assert job is not None
    assert heartbeat(store, job, lease_seconds=LEASE)
    outlive()
    assert take(store, "x") is None


def test_fail_is_final_and_keeps_the_error(store: Store) -> None:
    """A failed job keeps its error and is never claimed again."""
    job_id = queued(store)
    job = take(store)
    assert job is not None
    before = utcnow()
    settle(store, lambda s: fail_in(s, job, "Rejected: title missing"))
    after = utcnow()
    failed = row(store, job_id)
    assert (failed.status, failed.last_error, failed.lease_token) == (
        "failed",
        "Rejected: title missing",
        None,
    )
    assert between(failed.finished_at, before, after)
    assert take(store) is None


def test_release_gives_the_attempt_back(store: Store) -> None:
    """A released job is queued again at once, with its attempt count as before the claim."""
    job_id = queued(store)
    job = take(store)
    assert job is not None
    before = utcnow()
    assert release(store, job)
    after = utcnow()
    released = row(store, job_id)
    assert (released.status, released.attempts) == ("queued", 0)
    assert between(released.run_at, before, after)
    assert (released.lease_token, released.locked_by) == (None, None)
    again = take(store)
    assert again is not None and again.attempts == 1


@pytest.mark.parametrize(("count_attempt", "attempts"), [(True, 1), (False, 0)])
def test_retry_in_requeues_for_later(store: Store, count_attempt: bool, attempts: int) -> None:
    """A retried job waits until its new run_at; a rate-limit retry gives the attempt back."""
    job_id = queued(store)
    job = take(store)
    assert job is not None
    delay = 0.6
    before = utcnow()
    settle(store, lambda s: retry_in(s, job, delay, error="429", count_attempt=count_attempt))
    after = utcnow()
    retried = row(store, job_id)
    assert (retried.status, retried.attempts, retried.last_error) == ("queued", attempts, "429")
    wait = dt.timedelta(seconds=delay)
    assert between(retried.run_at, before + wait, after + wait)
    assert take(store) is None
    time.sleep(max(0.0, (retried.run_at - utcnow()).total_seconds()) + 0.05)
    again = take(store)
    assert again is not None and again.attempts == attempts + 1
    with pytest.raises(LeaseLost):
        settle(store, lambda s: retry_in(s, job, 1, error="stale lease"))


def test_a_huge_retry_delay_is_stored(store: Store) -> None:
    """A retry a day away is stored as such and leaves the job unclaimable meanwhile."""
    job_id = queued(store)
    job = take(store)
    assert job is not None
    settle(store, lambda s: retry_in(s, job, 86_400.0, error="later"))
    assert near(row(store, job_id).run_at, hours(24))
    assert take(store) is None


def test_deleting_an_export_deletes_its_jobs(store: Store, attributes: Attributes) -> None:
    """Jobs belong to their export: deleting the export removes them."""
    export_id = _export_id(store, attributes)
    with store.transaction() as session:
        DataExportJob.perform_later(session, id=export_id)
    with store.transaction() as session:
        session.delete(session.get(ZenodoDataExport, export_id))
    with store.transaction() as session:
        assert list_jobs(session) == []


def test_earliest() -> None:
    """The pure helper ``earliest`` returns the first moment and ignores None."""
    t0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    later = t0 + dt.timedelta(seconds=5)
    assert earliest(None, later, t0, None) == t0
    assert earliest(None) is None


@pytest.mark.slow
def test_concurrent_processes_claim_each_job_exactly_once(store: Store, tmp_path: Path) -> None:
    """Four worker processes draining 800 jobs at once claim every job exactly once."""
    with store.transaction() as session:
        ids = {enqueue(session, "ping").id for _ in range(4 * 200)}
    url = store.engine.url.render_as_string(hide_password=False)
    outputs = run_together("claim", url, tmp_path / "rendezvous", processes=4)
    claimed = [job_id for out in outputs for job_id in json.loads(out)]
    assert sorted(claimed) == sorted(ids)
    assert sum(1 for out in outputs if json.loads(out)) > 1, "one process took everything"
    with store.transaction() as session:
        assert {job.attempts for job in list_jobs(session, limit=1000)} == {1}

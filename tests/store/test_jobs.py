"""The durable job queue, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.store.conftest import Attributes
from tests.store.workers import run_together
from zenodo_export.errors import NotFound
from zenodo_export.store import (
    DataExportJob,
    Job,
    Store,
    ZenodoDataExport,
    active_job_for_export,
    claim,
    complete,
    enqueue,
    fail,
    heartbeat,
    list_jobs,
    next_run_at,
    ready_count,
    release,
    retry_at,
)
from zenodo_export.store.jobs import earliest, lease_expiry

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
LEASE = 60.0


def _later(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def _queue(
    store: Store,
    kind: str = "ping",
    *,
    run_at: dt.datetime = T0,
    export_id: int | None = None,
    payload: dict[str, object] | None = None,
) -> int:
    with store.transaction() as session:
        return enqueue(session, kind, run_at=run_at, export_id=export_id, payload=payload).id


def _job(store: Store, job_id: int) -> Job:
    with store.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _export_id(store: Store, attributes: Attributes) -> int:
    with store.transaction() as session:
        return ZenodoDataExport.create(session, **attributes()).id


def test_enqueue_claim_complete(store: Store) -> None:
    """A queued job is claimed once with a lease, then completed and never claimed again."""
    job_id = _queue(store, payload={"page": 3})
    claimed = claim(store, worker_id="w1", lease_seconds=LEASE, now=T0)
    assert claimed is not None
    assert (claimed.id, claimed.kind, claimed.payload, claimed.attempts) == (
        job_id,
        "ping",
        {"page": 3},
        1,
    )
    assert claimed.lease_expires_at == _later(LEASE)
    assert _job(store, job_id).status == "running"
    assert _job(store, job_id).locked_by == "w1"
    assert claim(store, worker_id="w2", lease_seconds=LEASE, now=T0) is None
    assert complete(store, claimed, now=_later(5))
    done = _job(store, job_id)
    assert (done.status, done.finished_at, done.lease_token) == ("done", _later(5), None)
    assert not complete(store, claimed)
    assert claim(store, worker_id="w2", lease_seconds=LEASE, now=_later(3600)) is None


def test_claim_takes_the_oldest_ready_job_of_the_given_kinds(store: Store) -> None:
    """Jobs are claimed oldest ``run_at`` first, and only of the kinds asked for."""
    late = _queue(store, run_at=_later(2))
    early = _queue(store, run_at=_later(1))
    other = _queue(store, "other", run_at=T0)
    claimed = [claim(store, worker_id="w", lease_seconds=LEASE, kinds=["ping"], now=_later(9))]
    claimed.append(claim(store, worker_id="w", lease_seconds=LEASE, kinds=["ping"], now=_later(9)))
    assert [job.id for job in claimed if job] == [early, late]
    assert claim(store, worker_id="w", lease_seconds=LEASE, kinds=["ping"], now=_later(9)) is None
    last = claim(store, worker_id="w", lease_seconds=LEASE, now=_later(9))
    assert last is not None and last.id == other


def test_claim_can_be_narrowed_to_one_export(store: Store, attributes: Attributes) -> None:
    """``export --wait`` claims only its own export's job, even when others are older."""
    first, second = _export_id(store, attributes), _export_id(store, attributes)
    with store.transaction() as session:
        DataExportJob.perform_later(session, id=first)
        DataExportJob.perform_later(session, id=second)
    mine = claim(store, worker_id="w", lease_seconds=LEASE, export_id=second)
    assert mine is not None and mine.export_id == second
    assert claim(store, worker_id="w", lease_seconds=LEASE, export_id=second) is None
    other = claim(store, worker_id="w", lease_seconds=LEASE)
    assert other is not None and other.export_id == first


def test_nothing_is_claimable_before_run_at(store: Store) -> None:
    """A job queued for later is neither ready nor claimable until its ``run_at``."""
    _queue(store, run_at=_later(30))
    assert claim(store, worker_id="w", lease_seconds=LEASE, now=_later(29)) is None
    with store.transaction() as session:
        assert ready_count(session, now=_later(29)) == 0
        assert ready_count(session, now=_later(30)) == 1
        assert next_run_at(session) == _later(30)
    assert claim(store, worker_id="w", lease_seconds=LEASE, now=_later(30)) is not None


def test_next_run_at_counts_running_leases(store: Store) -> None:
    """The next wake-up is the earliest due job or the earliest lease to run out."""
    with store.transaction() as session:
        assert next_run_at(session) is None
    _queue(store, run_at=T0)
    _queue(store, "later", run_at=_later(500))
    claim(store, worker_id="w", lease_seconds=LEASE, kinds=["ping"], now=T0)
    with store.transaction() as session:
        assert next_run_at(session) == _later(LEASE)


def test_an_export_has_at_most_one_active_job(store: Store, attributes: Attributes) -> None:
    """Queueing an export's job twice returns the active one; after it ends, a new one is added."""
    export_id = _export_id(store, attributes)
    with store.transaction() as session:
        first = DataExportJob.perform_later(session, id=export_id)
        again = DataExportJob.perform_later(session, id=export_id)
        assert again.id == first.id
    assert _queue(store, DataExportJob.KIND, export_id=export_id) == first.id
    claimed = claim(store, worker_id="w", lease_seconds=LEASE, now=T0)
    assert claimed is not None
    assert _queue(store, DataExportJob.KIND, export_id=export_id) == first.id
    assert complete(store, claimed)
    with store.transaction() as session:
        assert active_job_for_export(session, export_id) is None
        fresh = DataExportJob.perform_later(session, id=export_id)
        assert fresh.id != first.id
        assert active_job_for_export(session, export_id) is fresh
        assert len(list_jobs(session)) == 2


def test_jobs_without_export_are_never_deduplicated(store: Store) -> None:
    """Two jobs of the same kind without an export are two jobs."""
    assert _queue(store) != _queue(store)


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
    job_id = _queue(store)
    old = claim(store, worker_id="killed", lease_seconds=LEASE, now=T0)
    assert old is not None
    assert claim(store, worker_id="new", lease_seconds=LEASE, now=_later(LEASE)) is None
    new = claim(store, worker_id="new", lease_seconds=LEASE, now=_later(LEASE + 1))
    assert new is not None and new.id == job_id
    assert (new.attempts, new.lease_token != old.lease_token) == (2, True)
    assert not heartbeat(store, old, lease_seconds=LEASE, now=_later(LEASE + 2))
    assert not complete(store, old)
    assert not fail(store, old, "late")
    assert not release(store, old)
    assert _job(store, job_id).locked_by == "new"
    assert heartbeat(store, new, lease_seconds=LEASE, now=_later(100))
    assert _job(store, job_id).lease_expires_at == _later(100 + LEASE)
    assert complete(store, new)


def test_heartbeat_keeps_the_lease(store: Store) -> None:
    """A job whose lease is renewed in time is not claimable by another worker."""
    _queue(store)
    job = claim(store, worker_id="w", lease_seconds=LEASE, now=T0)
    assert job is not None
    assert heartbeat(store, job, lease_seconds=LEASE, now=_later(50))
    assert claim(store, worker_id="x", lease_seconds=LEASE, now=_later(LEASE + 1)) is None


def test_fail_is_final_and_keeps_the_error(store: Store) -> None:
    """A failed job keeps its error and is never claimed again."""
    job_id = _queue(store)
    job = claim(store, worker_id="w", lease_seconds=LEASE, now=T0)
    assert job is not None and fail(store, job, "Rejected: title missing", now=_later(1))
    failed = _job(store, job_id)
    assert (failed.status, failed.last_error, failed.finished_at) == (
        "failed",
        "Rejected: title missing",
        _later(1),
    )
    assert claim(store, worker_id="w", lease_seconds=LEASE, now=_later(9999)) is None


def test_release_gives_the_attempt_back(store: Store) -> None:
    """A released job is queued again at once, with its attempt count as before the claim."""
    job_id = _queue(store)
    job = claim(store, worker_id="w", lease_seconds=LEASE, now=T0)
    assert job is not None and release(store, job, now=_later(1))
    released = _job(store, job_id)
    assert (released.status, released.attempts, released.run_at) == ("queued", 0, _later(1))
    assert (released.lease_token, released.locked_by) == (None, None)
    again = claim(store, worker_id="w", lease_seconds=LEASE, now=_later(1))
    assert again is not None and again.attempts == 1


@pytest.mark.parametrize(("count_attempt", "attempts"), [(True, 1), (False, 0)])
def test_retry_at_requeues_for_later(store: Store, count_attempt: bool, attempts: int) -> None:
    """A retried job waits until its new run_at; a rate-limit retry gives the attempt back."""
    job_id = _queue(store)
    job = claim(store, worker_id="w", lease_seconds=LEASE, now=T0)
    assert job is not None
    assert retry_at(store, job, _later(120), error="429 slow down", count_attempt=count_attempt)
    retried = _job(store, job_id)
    assert (retried.status, retried.attempts, retried.last_error) == (
        "queued",
        attempts,
        "429 slow down",
    )
    assert claim(store, worker_id="w", lease_seconds=LEASE, now=_later(119)) is None
    assert claim(store, worker_id="w", lease_seconds=LEASE, now=_later(120)) is not None
    assert not retry_at(store, job, _later(1), error="stale lease")


def test_deleting_an_export_deletes_its_jobs(store: Store, attributes: Attributes) -> None:
    """Jobs belong to their export: deleting the export removes them."""
    export_id = _export_id(store, attributes)
    with store.transaction() as session:
        DataExportJob.perform_later(session, id=export_id)
    with store.transaction() as session:
        session.delete(session.get(ZenodoDataExport, export_id))
    with store.transaction() as session:
        assert list_jobs(session) == []


def test_earliest_and_lease_expiry() -> None:
    """The pure helpers: earliest ignores None; a lease ends lease_seconds after now."""
    assert earliest(None, _later(5), _later(2), None) == _later(2)
    assert earliest(None) is None
    assert lease_expiry(T0, 1.5) == T0 + dt.timedelta(seconds=1.5)


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

"""Fenced leases: a worker whose lease ran out or was taken writes nothing for its job."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.jobs.helpers import LEASE, SHORT, outlive, queued, row, settle, state, take
from zenodo_export.errors import LeaseLost
from zenodo_export.jobs import Lease, hold
from zenodo_export.jobs.queue import complete_in, fail_in, retry_in
from zenodo_export.store import Job, Store, list_alerts, record_alert


def test_hold_passes_while_the_lease_is_ours(store: Store) -> None:
    """``hold`` lets the holder's transaction through while its lease runs."""
    queued(store)
    job = take(store)
    assert job is not None
    settle(store, lambda s: hold(s, job))


def test_hold_raises_once_another_worker_claimed_the_job(store: Store) -> None:
    """``hold`` raises LeaseLost once another worker claimed the job after the lease ran out."""
    queued(store)
    old = take(store, "first", lease=SHORT)
    assert old is not None
    outlive()
    new = take(store, "second")
    assert new is not None and new.id == old.id
    with pytest.raises(LeaseLost, match=f"job {old.id}"):
        settle(store, lambda s: hold(s, old))
    settle(store, lambda s: hold(s, new))


def test_hold_raises_once_the_lease_ran_out_unclaimed(store: Store) -> None:
    """``hold`` raises LeaseLost when the lease ran out by the database's clock, even unclaimed."""
    queued(store)
    job = take(store, lease=SHORT)
    assert job is not None
    outlive()
    with pytest.raises(LeaseLost):
        settle(store, lambda s: hold(s, job))


@pytest.mark.parametrize("settling", ["complete", "fail", "retry"])
def test_stale_settling_writes_raise_and_change_nothing(store: Store, settling: str) -> None:
    """Settling with a stale lease (complete, fail, retry) raises LeaseLost, changes nothing."""
    job_id = queued(store)
    old = take(store, "first", lease=SHORT)
    assert old is not None
    outlive()
    assert take(store, "second") is not None
    before = state(store, job_id)
    writes = {
        "complete": lambda s: complete_in(s, old),
        "fail": lambda s: fail_in(s, old, "late"),
        "retry": lambda s: retry_in(s, old, 0, error="late", count_attempt=False),
    }
    with pytest.raises(LeaseLost):
        settle(store, writes[settling])
    assert state(store, job_id) == before
    assert row(store, job_id).locked_by == "second"


def test_a_stale_failure_rolls_back_what_came_before_it(store: Store) -> None:
    """An alert written in the same transaction as a stale ``fail_in`` is rolled back with it."""
    queued(store)
    old = take(store, lease=SHORT)
    assert old is not None
    outlive()
    assert take(store, "second") is not None

    def failed(session: Session) -> None:
        record_alert(session, RuntimeError("boom"))
        fail_in(session, old, "boom")

    with pytest.raises(LeaseLost):
        settle(store, failed)
    with store.transaction() as session:
        assert list_alerts(session, include_resolved=True) == []


def test_lease_check_raises_after_its_local_deadline(store: Store) -> None:
    """``Lease.check`` passes until the holder's own deadline, then raises LeaseLost."""
    queued(store)
    sent = time.monotonic()
    job = take(store, lease=LEASE)
    assert job is not None
    lease = Lease(store, job, lease_seconds=0.3, sent_at=sent)
    lease.check()
    assert not lease.lost and lease.remaining > 0
    time.sleep(max(0.0, lease.remaining) + 0.05)
    with pytest.raises(LeaseLost, match="lease ran out"):
        lease.check()
    assert lease.lost and lease.remaining <= 0


def test_lease_renewal_moves_the_local_deadline(store: Store) -> None:
    """A heartbeat noted with ``renewed`` pushes the holder's deadline; a lost lease stays lost."""
    queued(store)
    job = take(store)
    assert job is not None
    lease = Lease(store, job, lease_seconds=0.3, sent_at=time.monotonic())
    time.sleep(0.2)
    lease.renewed(time.monotonic())
    time.sleep(0.2)
    lease.check()
    lease.taken()
    with pytest.raises(LeaseLost, match="another worker holds it"):
        lease.check()
    lease.renewed(time.monotonic())
    assert lease.lost


def test_lease_transaction_writes_while_held(store: Store) -> None:
    """Writes in ``Lease.transaction`` commit while the lease holds."""
    job_id = queued(store)
    job = take(store)
    assert job is not None
    lease = Lease(store, job, lease_seconds=LEASE, sent_at=time.monotonic())
    with lease.transaction() as session:
        session.execute(update(Job).where(Job.id == job_id).values(last_error="progress"))
    assert row(store, job_id).last_error == "progress"


def test_lease_transaction_refuses_writes_after_the_local_deadline(store: Store) -> None:
    """``Lease.transaction`` raises LeaseLost before running anything once the deadline passed."""
    job_id = queued(store)
    sent = time.monotonic()
    job = take(store)
    assert job is not None
    lease = Lease(store, job, lease_seconds=0.2, sent_at=sent)
    time.sleep(0.3)
    ran = []
    with pytest.raises(LeaseLost), lease.transaction() as session:
        ran.append(True)
        session.execute(update(Job).where(Job.id == job_id).values(last_error="late"))
    assert ran == []
    assert row(store, job_id).last_error is None


def test_lease_transaction_refuses_writes_once_another_worker_holds_the_job(
    store: Store,
) -> None:
    """``Lease.transaction`` raises LeaseLost when the database says the job is someone else's."""
    job_id = queued(store)
    job = take(store, "first", lease=SHORT)
    assert job is not None
    # The holder believes in a long lease (a heartbeat it thinks succeeded, say).
    lease = Lease(store, job, lease_seconds=LEASE, sent_at=time.monotonic())
    outlive()
    assert take(store, "second") is not None
    before = state(store, job_id)
    ran = []
    with pytest.raises(LeaseLost), lease.transaction() as session:
        ran.append(True)
        session.execute(update(Job).where(Job.id == job_id).values(last_error="late"))
    assert ran == []
    assert state(store, job_id) == before

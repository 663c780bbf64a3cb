"""Riding out database outages: ``Outage.call`` retries, logs once, gives up on stop."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

import pytest

from tests.fixtures.database import opened_store
from tests.jobs.helpers import queued, take
from zenodo_export.errors import DatabaseUnavailable
from zenodo_export.jobs import Outage
from zenodo_export.store import db

LOGGER = "zenodo_export.jobs"


def _lines(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and text in r.getMessage()]


def test_call_retries_through_an_outage_and_logs_it_once(caplog: pytest.LogCaptureFixture) -> None:
    """Two outage errors then an answer: one result, one "unavailable" line, one "again"."""
    calls: list[float] = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) <= 2:
            raise DatabaseUnavailable("database unavailable: connection refused")
        return "answer"

    outage = Outage()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert outage.call(flaky) == "answer"
    assert len(calls) == 3
    assert calls[1] - calls[0] > 0.05, "no pause between two tries"
    assert len(_lines(caplog, "unavailable")) == 1
    assert len(_lines(caplog, "available again")) == 1
    assert not outage.ongoing


def test_call_logs_nothing_without_an_outage(caplog: pytest.LogCaptureFixture) -> None:
    """A call the database answers at once logs nothing."""
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert Outage().call(lambda: 42) == 42
    assert _lines(caplog, "available") == []


def test_one_outage_is_logged_once_across_calls(caplog: pytest.LogCaptureFixture) -> None:
    """Several threads waiting through the same outage log its start and end once."""
    outage = Outage()
    back = threading.Event()

    def down_until_back() -> bool:
        if not back.is_set():
            raise DatabaseUnavailable("database unavailable: connection refused")
        return True

    results: list[bool] = []
    with caplog.at_level(logging.INFO, logger=LOGGER):
        threads = [
            threading.Thread(target=lambda: results.append(outage.call(down_until_back)))
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.4)
        assert outage.ongoing
        back.set()
        for thread in threads:
            thread.join(timeout=10)
    assert results == [True, True, True]
    assert len(_lines(caplog, "unavailable")) == 1
    assert len(_lines(caplog, "available again")) == 1


def test_call_gives_up_when_stopping_is_set() -> None:
    """A call waiting through an outage re-raises soon after the worker starts stopping."""
    stopping = threading.Event()
    outage = Outage(stopping=stopping)
    calls: list[int] = []

    def down() -> None:
        calls.append(1)
        raise DatabaseUnavailable("database unavailable: still down")

    timer = threading.Timer(0.5, stopping.set)
    timer.start()
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match="still down"):
        outage.call(down)
    timer.join()
    assert len(calls) >= 2
    assert time.monotonic() - started < 2.0


def test_call_does_not_retry_once_stopping() -> None:
    """With the worker already stopping, a failing call is tried once and re-raised."""
    stopping = threading.Event()
    stopping.set()
    calls: list[int] = []

    def down() -> None:
        calls.append(1)
        raise DatabaseUnavailable("down")

    with pytest.raises(DatabaseUnavailable):
        Outage(stopping=stopping).call(down)
    assert calls == [1]


def test_call_gives_up_when_until_holds() -> None:
    """``until`` ends the wait (a heartbeat whose lease ran out stops retrying)."""
    calls: list[int] = []

    def down() -> None:
        calls.append(1)
        raise DatabaseUnavailable("down")

    with pytest.raises(DatabaseUnavailable):
        Outage().call(down, until=lambda: len(calls) >= 3)
    assert len(calls) == 3


def test_other_errors_are_not_retried() -> None:
    """Only ``DatabaseUnavailable`` is retried; any other error goes straight through."""
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        Outage().call(broken)
    assert calls == [1]


def test_a_claim_waits_out_a_locked_sqlite_file(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A claim through ``Outage.call`` waits while another connection holds the write lock."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT", 0.05)
    with opened_store(sqlite_url) as store:
        job_id = queued(store)
        locker = sqlite3.connect(
            str(store.engine.url.database), isolation_level=None, check_same_thread=False
        )
        try:
            locker.execute("BEGIN IMMEDIATE")
            with pytest.raises(DatabaseUnavailable, match="locked"):
                take(store)
            unlock = threading.Timer(1.0, lambda: locker.execute("ROLLBACK"))
            started = time.monotonic()
            unlock.start()
            with caplog.at_level(logging.INFO, logger=LOGGER):
                job = Outage().call(lambda: take(store))
            waited = time.monotonic() - started
            unlock.join()
        finally:
            locker.close()
    assert job is not None and job.id == job_id
    assert waited >= 0.9
    assert len(_lines(caplog, "unavailable")) == 1
    assert len(_lines(caplog, "available again")) == 1

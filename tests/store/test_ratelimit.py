"""The request budget shared through the database: window math, turns, processes, settings."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import select

from zenodo_export.errors import ConfigError, RateLimited
from zenodo_export.jobs.retry import decide
from zenodo_export.settings import load_settings
from zenodo_export.store import RateLimitEvent, SharedBudget, Store, request_times, shared_pacer
from zenodo_export.zenodo.pacing import Budget, Pacer, limiter_key, next_turn, parse_budgets

REPO_ROOT = Path(__file__).resolve().parents[2]
URL = "https://zenodo.example/api/"
TOKEN = "tok-3f9a1c-secret-do-not-store"
PER_SECOND = Budget(3, 1.0)
PER_MINUTE = Budget(5, 60.0)

TAKE_TURNS = """
import json, sys, time
from pathlib import Path
from zenodo_export.store import Store, shared_pacer
from zenodo_export.zenodo.pacing import parse_budgets

database_url, zenodo_url, token, budgets, count, rendezvous, name = sys.argv[1:]
store = Store.open(database_url, migrate=False)
pacer = shared_pacer(store, zenodo_url=zenodo_url, token=token, budgets=parse_budgets(budgets))
(Path(rendezvous) / f"ready-{name}").touch()
while not (Path(rendezvous) / "go").exists():
    time.sleep(0.005)
print(json.dumps([pacer.wait_for_turn().at for _ in range(int(count))]))
store.dispose()
"""
"""A process taking ``count`` turns as fast as the shared budget allows; prints their times."""


def most_in_any_window(times: Sequence[float], seconds: float) -> int:
    """Return the most requests found in any half-open window of ``seconds``, wherever it lies."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def nth_newest(times: Sequence[float], n: int) -> float | None:
    """Return the ``n``-th newest of ``times`` (what the store looks up per budget)."""
    return sorted(times)[-n] if len(times) >= n else None


# The pure window math -----------------------------------------------------------------------


def test_parse_budgets_reads_periods_and_off() -> None:
    """Budgets parse from N/period lists in several spellings; off or nothing means none."""
    assert parse_budgets("100/minute,5000/hour") == (Budget(100, 60.0), Budget(5000, 3600.0))
    assert parse_budgets(" 8/second , 2 per 1 day ") == (Budget(8, 1.0), Budget(2, 86400.0))
    assert parse_budgets("3/Seconds") == (Budget(3, 1.0),)
    assert parse_budgets("off") == parse_budgets("") == ()
    assert [str(budget) for budget in parse_budgets("100/minute,5000/hour")] == [
        "100/minute",
        "5000/hour",
    ]


@pytest.mark.parametrize("text", ["5/fortnight", "0/second", "ten/minute", "100/minute,", "-1/s"])
def test_parse_budgets_refuses_bad_parts(text: str) -> None:
    """A part that is not N/second|minute|hour|day with N >= 1 is a ValueError naming it."""
    with pytest.raises(ValueError, match="is not N/second"):
        parse_budgets(text)


def test_fewer_requests_than_a_budget_may_go_at_once() -> None:
    """With fewer than ``amount`` requests on record, every budget lets the next one go."""
    turn = next_turn(100.0, [(PER_SECOND, None), (PER_MINUTE, None)])
    assert turn.allowed
    assert (turn.at, turn.wait, turn.budget) == (100.0, 0.0, None)


def test_a_request_leaves_its_window_exactly_one_length_later() -> None:
    """Windows are half-open: at ``t + seconds`` the request at ``t`` no longer counts."""
    assert next_turn(101.0, [(PER_SECOND, 100.0)]).allowed
    held = next_turn(100.75, [(PER_SECOND, 100.0)])
    assert not held.allowed
    assert held.wait == pytest.approx(0.25)
    assert held.budget == PER_SECOND


def test_the_longest_wait_of_several_budgets_wins() -> None:
    """Each budget says how long it holds the request back; the longest wait is the answer."""
    turn = next_turn(130.0, [(PER_SECOND, 129.5), (PER_MINUTE, 100.0)])
    assert turn.wait == pytest.approx(30.0)
    assert turn.budget == PER_MINUTE
    only_second = next_turn(130.0, [(PER_SECOND, 129.5), (PER_MINUTE, 60.0)])
    assert only_second.wait == pytest.approx(0.5)
    assert only_second.budget == PER_SECOND


def test_greedy_requests_fill_every_budget_but_never_exceed_it() -> None:
    """Requests sent as soon as ``next_turn`` allows use each budget fully and never exceed it."""
    budgets = (PER_SECOND, PER_MINUTE)
    now, sent = 0.0, []
    while now < 300.0:
        turn = next_turn(now, [(b, nth_newest(sent, b.amount)) for b in budgets])
        if turn.allowed:
            sent.append(now)
        now += max(turn.wait, 0.01)
    for budget in budgets:
        assert most_in_any_window(sent, budget.seconds) == budget.amount
    assert len(sent) == PER_MINUTE.amount * 5


def test_limiter_key_hashes_url_and_token() -> None:
    """The key is stable per URL and token, differs otherwise, and does not contain the token."""
    key = limiter_key(URL, TOKEN)
    assert key == limiter_key(URL.rstrip("/"), TOKEN)
    assert len(key) == 32
    assert TOKEN not in key
    assert key != limiter_key(URL, TOKEN + "x")
    assert key != limiter_key("https://sandbox.zenodo.org/api/", TOKEN)


def test_rate_limits_setting_is_parsed_at_the_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    """ZENODO_EXPORT_RATE_LIMITS defaults to Zenodo's limits; a bad one is a one-line error."""
    monkeypatch.delenv("ZENODO_EXPORT_RATE_LIMITS", raising=False)
    assert load_settings().rate_limits == (Budget(100, 60.0), Budget(5000, 3600.0))
    monkeypatch.setenv("ZENODO_EXPORT_RATE_LIMITS", "off")
    assert load_settings().rate_limits == ()
    monkeypatch.setenv("ZENODO_EXPORT_RATE_LIMITS", "8/second")
    assert load_settings().rate_limits == (Budget(8, 1.0),)
    monkeypatch.setenv("ZENODO_EXPORT_RATE_LIMITS", "100/minute,5/fortnight")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value).startswith("setting ZENODO_EXPORT_RATE_LIMITS: '5/fortnight' ")
    assert "\n" not in str(raised.value)


# Turns kept in the database, on both backends ----------------------------------------------


def test_turns_are_counted_until_a_budget_is_used_up(store: Store) -> None:
    """Three turns a second pass; the fourth waits until the first leaves its window."""
    shared = SharedBudget(store, "k", [PER_SECOND, PER_MINUTE])
    assert all(shared.acquire(now=1000.0 + n * 0.1).allowed for n in range(3))
    held = shared.acquire(now=1000.5)
    assert held.wait == pytest.approx(0.5)
    assert held.budget == PER_SECOND
    assert shared.acquire(now=1001.0).allowed
    assert shared.acquire(now=1002.0).allowed
    by_minute = shared.acquire(now=1003.0)
    assert by_minute.wait == pytest.approx(57.0)
    assert by_minute.budget == PER_MINUTE
    with store.transaction() as session:
        assert request_times(session, "k") == pytest.approx([1000.0, 1000.1, 1000.2, 1001, 1002])


def test_requests_older_than_the_longest_window_are_pruned(store: Store) -> None:
    """Taking a turn forgets the requests no budget can count any more."""
    shared = SharedBudget(store, "k", [PER_SECOND, Budget(10, 5.0)])
    for moment in (0.0, 1.0, 2.0, 6.0, 7.5):
        assert shared.acquire(now=moment).allowed
    with store.transaction() as session:
        assert request_times(session, "k") == [6.0, 7.5]


def test_different_keys_do_not_share_budgets(store: Store) -> None:
    """A used-up budget of one key does not hold back another key."""
    first = SharedBudget(store, limiter_key(URL, TOKEN), [Budget(1, 60.0)])
    second = SharedBudget(store, limiter_key(URL, "another-token"), [Budget(1, 60.0)])
    assert first.acquire(now=10.0).allowed
    assert not first.acquire(now=11.0).allowed
    assert second.acquire(now=11.0).allowed
    with store.transaction() as session:
        assert request_times(session, first.key) == [10.0]
        assert request_times(session, second.key) == [11.0]


def test_the_token_is_never_stored(store: Store, tmp_path: Path) -> None:
    """A paced request leaves a row keyed by the hash; the token is nowhere in the database."""
    pacer = shared_pacer(store, zenodo_url=URL, token=TOKEN, budgets=[PER_SECOND])
    assert pacer is not None
    pacer.wait_for_turn()
    with store.transaction() as session:
        rows = session.execute(select(RateLimitEvent.key, RateLimitEvent.at)).all()
    assert [row.key for row in rows] == [limiter_key(URL, TOKEN)]
    assert TOKEN not in repr(rows)
    if store.dialect == "sqlite":
        database = Path(str(store.engine.url.database))
        stored = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
        assert limiter_key(URL, TOKEN).encode() in stored
        assert TOKEN.encode() not in stored


def test_pacing_off_gives_no_pacer(store: Store) -> None:
    """With no budget (ZENODO_EXPORT_RATE_LIMITS=off) there is nothing to pace."""
    assert shared_pacer(store, zenodo_url=URL, token=TOKEN, budgets=()) is None


def test_pacer_sleeps_until_its_turn(sqlite_store: Store) -> None:
    """The pacer sleeps exactly the waits the budget asks for, then counts the request."""
    slept: list[float] = []
    shared = SharedBudget(sqlite_store, "k", [Budget(2, 0.5)])

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    pacer = Pacer(shared.acquire, sleep=sleep)
    turns = [pacer.wait_for_turn() for _ in range(5)]
    assert all(0.0 < seconds <= 0.5 for seconds in slept)
    assert sum(slept) == pytest.approx(1.0, abs=0.1)
    assert most_in_any_window([turn.at for turn in turns], 0.5) == 2
    assert turns[-1].at - turns[0].at >= 1.0


def test_a_long_wait_postpones_the_job_without_an_attempt(sqlite_store: Store) -> None:
    """A wait beyond max_wait raises RateLimited, which postpones the job by that wait."""
    pacer = Pacer(SharedBudget(sqlite_store, "k", [Budget(1, 3600.0)]).acquire, max_wait=60.0)
    pacer.wait_for_turn()
    with pytest.raises(RateLimited, match=r"budget 1/hour .* is used up") as raised:
        pacer.wait_for_turn()
    assert raised.value.retry_after == pytest.approx(3600.0, abs=5.0)
    decision = decide(raised.value, attempt=25, max_attempts=25, base=15.0)
    assert decision.action == "postpone"
    assert decision.delay == raised.value.retry_after


@pytest.mark.slow
def test_processes_sharing_a_key_never_exceed_the_budget(store: Store, tmp_path: Path) -> None:
    """Four processes taking 15 turns each at once stay within 20/second in every window."""
    url = store.engine.url.render_as_string(hide_password=False)
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    names = [f"p{n}" for n in range(4)]
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                TAKE_TURNS,
                url,
                URL,
                TOKEN,
                "20/second",
                "15",
                str(rendezvous),
                n,
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in names
    ]
    deadline = time.monotonic() + 30
    while not all((rendezvous / f"ready-{n}").exists() for n in names):
        assert time.monotonic() < deadline, "the processes did not get ready"
        time.sleep(0.01)
    (rendezvous / "go").touch()
    outputs = [child.communicate(timeout=60) for child in children]
    assert [child.returncode for child in children] == [0] * 4, [err for _, err in outputs]
    times = [moment for out, _ in outputs for moment in json.loads(out)]
    assert len(times) == 60
    assert most_in_any_window(times, 1.0) == 20
    # 60 turns at 20/second: the last 40 had to wait at least 2 s, and nobody waited in vain.
    assert 2.0 <= max(times) - min(times) < 4.0

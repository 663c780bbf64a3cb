"""The registry: a kind defined here, outside the runtime, runs with no change to ``jobs/``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.jobs.helpers import queued, row
from zenodo_export.errors import ConfigError
from zenodo_export.jobs import JobContext, JobKind, JobRunner, Registry, Worker
from zenodo_export.settings import Settings
from zenodo_export.store import Store, list_alerts

ECHO = "test_echo"


def perform_echo(context: JobContext) -> None:
    """Append the job's text to the file its payload names, once the lease is checked."""
    context.check()
    path = Path(context.job.payload["path"])
    with path.open("a") as out:
        out.write(f"{context.job.payload['text']}\n")


def echo_registry() -> Registry:
    """Return a fresh registry holding only this module's kind."""
    registry = Registry()
    registry.add(JobKind(ECHO, perform_echo))
    return registry


def run_burst(store: Store, settings: Settings, registry: Registry) -> dict[str, int]:
    """Run a burst worker until no job is ready; return its tally."""
    worker = Worker(JobRunner(store, settings, registry), burst=True)
    try:
        return worker.run().counts
    finally:
        worker.stop()


def test_a_kind_registered_from_a_test_module_runs(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    """A kind defined outside ``jobs/`` runs in a burst worker once, and its job completes."""
    out = tmp_path / "echo.txt"
    job_id = queued(store, ECHO, payload={"path": str(out), "text": "hello"})
    assert run_burst(store, settings, echo_registry()) == {"done": 1}
    assert out.read_text() == "hello\n"
    done = row(store, job_id)
    assert (done.status, done.attempts, done.lease_token) == ("done", 1, None)


def test_registering_a_name_twice_is_refused() -> None:
    """Registering two kinds of the same name raises ConfigError naming it."""
    registry = echo_registry()
    with pytest.raises(ConfigError, match=ECHO):
        registry.add(JobKind(ECHO, perform_echo))
    with pytest.raises(ConfigError, match=ECHO):
        Registry((JobKind(ECHO, perform_echo), JobKind(ECHO, perform_echo)))
    assert registry.names() == (ECHO,)
    assert ECHO in registry and "other" not in registry


def test_an_unknown_kind_fails_its_job_with_an_alert(store: Store, settings: Settings) -> None:
    """A job whose kind nobody registered fails for good, with an alert naming the kind."""
    job_id = queued(store, "test_nobody_knows")
    assert run_burst(store, settings, echo_registry()) == {"failed": 1}
    failed = row(store, job_id)
    assert failed.status == "failed"
    assert failed.last_error is not None and "test_nobody_knows" in failed.last_error
    with store.transaction() as session:
        (alert,) = list_alerts(session)
    assert alert.class_name.endswith("UnknownKind")
    assert "test_nobody_knows" in alert.message


def test_a_kind_that_needs_an_export_fails_without_one(store: Store, settings: Settings) -> None:
    """A job of a kind that needs an export, queued without one, fails without running."""
    calls: list[int] = []
    registry = Registry((JobKind("test_needy", lambda c: calls.append(1), needs_export=True),))
    job_id = queued(store, "test_needy")
    assert run_burst(store, settings, registry) == {"failed": 1}
    assert (row(store, job_id).status, calls) == ("failed", [])

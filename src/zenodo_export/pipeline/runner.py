"""Perform one claimed job and settle its outcome: done, retried later, postponed, or failed.

Only the last failed attempt marks the export failed and stores an alert; a rate limit
postpones the job without using up an attempt. Failing an export is written before the job
is closed, so a crash in between re-runs the job rather than losing the failure.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

from zenodo_export import reports
from zenodo_export.pipeline import janitor
from zenodo_export.pipeline.export import ExportRun
from zenodo_export.pipeline.plan import decide
from zenodo_export.pipeline.reporting import Reporter
from zenodo_export.settings import Settings
from zenodo_export.snapshots import crawl as snapshot
from zenodo_export.snapshots import scheduled
from zenodo_export.store import (
    ClaimedJob,
    DataExportJob,
    Store,
    get_export,
    jobs,
    record_alert,
    shared_pacer,
)
from zenodo_export.store.alerts import scrub
from zenodo_export.store.types import utcnow
from zenodo_export.zenodo.client import ZenodoClient

log = logging.getLogger(__name__)

ClientFactory = Callable[[], ZenodoClient]
"""Builds a Zenodo client for one job (so each job has its own connections)."""

Result = Literal["done", "continue", "retry", "postpone", "failed", "lost"]


@dataclass(frozen=True)
class Outcome:
    """How a job ended this time, and when it runs again if it does."""

    result: Result
    run_at: dt.datetime | None = None
    error: str | None = None


def client_factory(settings: Settings, *, store: Store | None = None) -> ClientFactory:
    """Return a factory of clients for the configured Zenodo, paced through ``store`` if given.

    Paced clients share ``ZENODO_EXPORT_RATE_LIMITS`` with every worker of the same token.
    """
    token = settings.zenodo_token.get_secret_value() if settings.zenodo_token else None
    pacer = None
    if store is not None and token:
        pacer = shared_pacer(
            store, zenodo_url=settings.zenodo_url, token=token, budgets=settings.rate_limits
        )

    def build() -> ZenodoClient:
        return ZenodoClient(
            settings.zenodo_url,
            token,
            timeout=settings.http_timeout,
            chunk_size=settings.upload_chunk_size,
            pacer=pacer.wait_for_turn if pacer else None,
        )

    return build


class ThreadClients:
    """One Zenodo client per thread, kept for the next job (connections and TLS set-up reused)."""

    def __init__(self, factory: ClientFactory) -> None:
        self.factory = factory
        self._local = threading.local()
        self._all: list[ZenodoClient] = []
        self._lock = threading.Lock()

    def get(self) -> ZenodoClient:
        """Return this thread's client, building it on first use."""
        client: ZenodoClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self.factory()
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        """Close every client built so far."""
        with self._lock:
            for client in self._all:
                client.close()
            self._all.clear()


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Return the strings that must never be stored or printed."""
    return (settings.zenodo_token.get_secret_value(),) if settings.zenodo_token else ()


class JobRunner:
    """Runs claimed jobs against one store with one settings object."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        clients: ClientFactory | None = None,
        reporter: Reporter | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clients = ThreadClients(clients or client_factory(settings, store=store))
        self.reporter = reporter
        self.rng = rng or random.Random()
        self.secrets = secrets_of(settings)

    def close(self) -> None:
        """Close the Zenodo clients of every thread."""
        self.clients.close()

    def handlers(self) -> dict[str, Callable[[ClaimedJob], bool | None]]:
        """Return the handler of each job kind.

        A handler raises our errors on failure (settled by ``decide``), and returns True when
        it did one part of a longer task and wants to run again at once (its job is queued
        again without using an attempt); anything else completes the job.
        """
        return {
            DataExportJob.KIND: self._export,
            janitor.KIND: self._janitor,
            snapshot.KIND: partial(snapshot.run_snapshot_job, self.store, self.settings),
            reports.KIND: partial(reports.perform_report, self.store, self.settings),
            scheduled.KIND: partial(
                scheduled.perform_scheduled_snapshot, self.store, self.settings
            ),
        }

    def perform(self, job: ClaimedJob) -> Outcome:
        """Run the job by its kind and settle the outcome in the store."""
        handler = self.handlers().get(job.kind)
        if handler is None or (job.kind == DataExportJob.KIND and job.export_id is None):
            jobs.fail(self.store, job, f"job {job.id}: unknown kind {job.kind!r} or no export")
            return Outcome("failed", error="unknown job")
        try:
            more = handler(job)
        except Exception as exc:
            return self._settle_failure(job, exc)
        if more is True:
            again = jobs.retry_at(self.store, job, utcnow(), error="", count_attempt=False)
            return Outcome("continue") if again else Outcome("lost")
        return Outcome("done") if jobs.complete(self.store, job) else Outcome("lost")

    def _export(self, job: ClaimedJob) -> None:
        assert job.export_id is not None
        ExportRun(
            self.store,
            self.clients.get(),
            job.export_id,
            reporter=self.reporter,
            versioning=self.settings.versioning,
            settle_seconds=self.settings.settle_seconds,
            defer_seconds=self.settings.defer_seconds,
        ).run()

    def _janitor(self, job: ClaimedJob) -> None:
        report = janitor.run_janitor(
            self.store, self.clients.get(), grace_seconds=self.settings.janitor_grace_seconds
        )
        log.info(
            "janitor: %d draft(s) seen, %d orphan(s) deleted",
            report.drafts_seen,
            len(report.orphans),
        )
        schedule_janitor(self.store, self.settings, after=job)

    def _settle_failure(self, job: ClaimedJob, exc: Exception) -> Outcome:
        decision = decide(
            exc,
            attempt=job.attempts,
            max_attempts=self.settings.max_attempts,
            base=self.settings.retry_base_seconds,
            scale=self.settings.retry_delay_scale,
            rng=self.rng,
        )
        message = scrub(f"{type(exc).__name__}: {exc}", self.secrets)
        what = f"export {job.export_id}" if job.export_id is not None else f"{job.kind} job"
        if decision.action == "fail":
            self._mark_failed(job, exc, message)
            jobs.fail(self.store, job, message)
            log.error("%s failed for good: %s", what, message)
            return Outcome("failed", error=message)
        run_at = utcnow() + dt.timedelta(seconds=decision.delay)
        self._note_error(job, message)
        counted = decision.action == "retry"
        if not jobs.retry_at(self.store, job, run_at, error=message, count_attempt=counted):
            return Outcome("lost", error=message)
        log.warning(
            "%s: %s; %s at %s",
            what,
            message,
            "retrying" if counted else "postponed",
            run_at.isoformat(),
        )
        return Outcome(decision.action, run_at=run_at, error=message)

    def _mark_failed(self, job: ClaimedJob, exc: Exception, message: str) -> None:
        with self.store.transaction() as session:
            if job.export_id is not None:
                export = get_export(session, job.export_id)
                export.failed_at = utcnow()
                export.started_exporting_at = None
                export.finished_exporting_at = None
                export.last_error = message
                export.attempts = job.attempts
            record_alert(session, exc, export_id=job.export_id, secrets=self.secrets)

    def _note_error(self, job: ClaimedJob, message: str) -> None:
        if job.export_id is None:
            return
        with self.store.transaction() as session:
            export = get_export(session, job.export_id)
            export.last_error = message
            export.attempts = job.attempts


def schedule_janitor(store: Store, settings: Settings, *, after: ClaimedJob | None = None) -> None:
    """Queue the next janitor run one interval from now (once: never two waiting)."""
    run_at = utcnow() + dt.timedelta(seconds=settings.janitor_interval_seconds)
    with store.transaction() as session:
        if after is not None:  # the running janitor job itself is still active
            jobs.enqueue(session, janitor.KIND, run_at=run_at)
        else:
            jobs.enqueue_once(session, janitor.KIND, run_at=run_at)

"""Run one claimed job by its kind and settle the outcome: done, again, later, or failed.

Only the last failed attempt fails the job: the kind's ``on_failed`` (e.g. mark the export
failed), the alert with the backtrace and the job's own end are written in ONE transaction,
fenced by the lease, so a crash in between re-runs the job instead of losing the failure, and
a worker that lost its lease writes nothing. A rate limit or a wait for another export
postpones the job without using an attempt. Every settling write rides out database outages.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from zenodo_export.errors import LeaseLost, WorkerLost, ZenodoExportError
from zenodo_export.jobs import queue
from zenodo_export.jobs.context import JobContext, ThreadResources
from zenodo_export.jobs.lease import Lease
from zenodo_export.jobs.outage import Outage
from zenodo_export.jobs.queue import ClaimedJob
from zenodo_export.jobs.registry import JobKind, Registry
from zenodo_export.jobs.retry import decide
from zenodo_export.logs import secrets_of
from zenodo_export.redact import scrub
from zenodo_export.settings import Settings
from zenodo_export.store import record_alert
from zenodo_export.store.db import Store

log = logging.getLogger("zenodo_export.jobs")

Result = Literal["done", "continue", "retry", "postpone", "failed", "lost"]


@dataclass(frozen=True)
class Outcome:
    """How a job ended this time, and in how many seconds it runs again if it does."""

    result: Result
    delay: float | None = None
    error: str | None = None


class UnknownKind(ZenodoExportError):
    """A job names a kind this worker does not know, or lacks the export its kind needs."""


def describe(job: ClaimedJob) -> str:
    """Name a job for a log line: its kind, id and export."""
    export = f", export {job.export_id}" if job.export_id is not None else ""
    return f"{job.kind} job {job.id}{export}"


class JobRunner:
    """Runs claimed jobs of the registered kinds against one store with one settings object."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        registry: Registry,
        *,
        services: Mapping[str, Any] | None = None,
        rng: random.Random | None = None,
        outage: Outage | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.registry = registry
        self.services = dict(services or {})
        self.rng = rng or random.Random()
        self.outage = outage or Outage()
        self.resources = ThreadResources()
        self.secrets = secrets_of(settings)

    def close(self) -> None:
        """Close what the kinds built per thread (HTTP clients)."""
        self.resources.close()

    def perform(self, job: ClaimedJob, lease: Lease) -> Outcome:
        """Run the job by its kind and settle the outcome in the store."""
        kind = self.registry.get(job.kind)
        if kind is None or (kind.needs_export and job.export_id is None):
            problem = UnknownKind(f"job {job.id}: unknown kind {job.kind!r} or no export")
            return self._settle_failure(job, lease, kind, problem, final=True)
        if job.exhausted is not None:
            return self._settle_failure(job, lease, kind, WorkerLost(job.exhausted), final=True)
        context = JobContext(
            job=job,
            lease=lease,
            store=self.store,
            settings=self.settings,
            resources=self.resources,
            services=self.services,
        )
        try:
            more = kind.perform(context)
        except LeaseLost as exc:
            log.warning("%s: %s", describe(job), exc)
            return Outcome("lost", error=str(exc))
        except Exception as exc:
            return self._settle_failure(job, lease, kind, exc)
        if more is True:
            return self._settled(
                lease,
                lambda s: queue.retry_in(s, job, 0, error="", count_attempt=False),
                Outcome("continue"),
            )
        return self._settled(lease, lambda s: queue.complete_in(s, job), Outcome("done"))

    def _settled(self, lease: Lease, write: Any, outcome: Outcome) -> Outcome:
        """Write the outcome in one fenced transaction, through outages; ``lost`` if not ours."""

        def attempt() -> None:
            with self.store.transaction() as session:
                write(session)

        try:
            self.outage.call(attempt)
        except LeaseLost as exc:
            log.warning("%s: not settled as %s: %s", describe(lease.job), outcome.result, exc)
            return Outcome("lost", error=outcome.error)
        return outcome

    def _settle_failure(
        self,
        job: ClaimedJob,
        lease: Lease,
        kind: JobKind | None,
        exc: Exception,
        *,
        final: bool = False,
    ) -> Outcome:
        decision = decide(
            exc,
            attempt=job.attempts,
            max_attempts=self.settings.max_attempts,
            base=self.settings.retry_base_seconds,
            scale=self.settings.retry_delay_scale,
            rng=self.rng,
        )
        message = scrub(f"{type(exc).__name__}: {exc}", self.secrets)
        if final or decision.action == "fail":

            def failed(session: Session) -> None:
                if kind is not None and kind.on_failed is not None:
                    kind.on_failed(session, job, exc, message)
                record_alert(session, exc, export_id=job.export_id, secrets=self.secrets)
                queue.fail_in(session, job, message)

            outcome = self._settled(lease, failed, Outcome("failed", error=message))
            if outcome.result == "failed":
                log.error("%s failed for good: %s", describe(job), message)
            return outcome

        def again(session: Session) -> None:
            if kind is not None and kind.on_retry is not None:
                kind.on_retry(session, job, exc, message)
            queue.retry_in(
                session,
                job,
                decision.delay,
                error=message,
                count_attempt=decision.action == "retry",
            )

        outcome = self._settled(
            lease, again, Outcome(decision.action, delay=decision.delay, error=message)
        )
        if outcome.result != "lost":
            verb = "retrying" if decision.action == "retry" else "postponed"
            log.warning("%s: %s; %s in %.0f s", describe(job), message, verb, decision.delay)
        return outcome

"""An export's timeline, built only from what is stored: its own timestamps, its jobs' rows,
its files' upload times and its alerts. What the store does not keep is said, not guessed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from zenodo_export.store import Alert, DataExport, Job
from zenodo_export.web.pages.format import aware, duration


@dataclass(frozen=True)
class Step:
    """One moment of an export's life, with how long the step it ends took, if known."""

    at: dt.datetime
    what: str
    took: str = ""
    tone: str = ""


def _job_steps(job: Job) -> list[Step]:
    steps = [Step(aware(job.created_at), f"job {job.id} ({job.kind}) queued on {job.queue}")]
    tries = f"attempt {job.attempts}" if job.attempts else "no attempt yet"
    if job.claimed_at is not None:
        steps.append(
            Step(aware(job.claimed_at), f"job {job.id} taken by {job.locked_by or 'a worker'} "
                 f"({tries})", took=duration(job.created_at, job.claimed_at))
        )  # fmt: skip
    if job.finished_at is not None:
        error = f": {job.last_error}" if job.last_error and job.status == "failed" else ""
        steps.append(
            Step(aware(job.finished_at), f"job {job.id} {job.status}{error}",
                 took=duration(job.claimed_at, job.finished_at),
                 tone="bad" if job.status == "failed" else "ok")
        )  # fmt: skip
    return steps


def _upload_steps(export: DataExport) -> list[Step]:
    steps = []
    for name, entry in (export.uploads or {}).items():
        stamp = entry.get("uploaded_at")
        if isinstance(stamp, str):
            try:
                steps.append(Step(aware(dt.datetime.fromisoformat(stamp)), f"file {name} uploaded"))
            except ValueError:
                continue
    return steps


def timeline(export: DataExport, jobs: Sequence[Job], alerts: Sequence[Alert]) -> list[Step]:
    """Every recorded moment of ``export``, oldest first."""
    steps = [Step(aware(export.created_at), "export created")]
    if export.started_exporting_at is not None:
        steps.append(Step(aware(export.started_exporting_at), "export started (latest attempt)"))
    for job in jobs:
        steps.extend(_job_steps(job))
    steps.extend(_upload_steps(export))
    for alert in alerts:
        steps.append(
            Step(aware(alert.created_at), f"alert {alert.level}: {alert.message}", tone="bad")
        )
    if export.finished_exporting_at is not None:
        steps.append(
            Step(aware(export.finished_exporting_at), "published",
                 took=duration(export.created_at, export.finished_exporting_at), tone="ok")
        )  # fmt: skip
    if export.failed_at is not None:
        steps.append(
            Step(aware(export.failed_at), f"failed: {export.last_error or ''}", tone="bad")
        )
    return sorted(steps, key=lambda step: step.at)


NOT_RECORDED = (
    "A job keeps only its latest claim: the start of its earlier attempts is not recorded, "
    "only how many there were. Steps inside an attempt (deposition made, publish asked) are "
    "not timed; each file carries the time its upload finished."
)
"""What the timeline cannot show, said on the page."""

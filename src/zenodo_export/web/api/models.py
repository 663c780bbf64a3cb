"""The API's schemas, split by direction: what it answers (``...Public``) and what it takes.

Answers are built from the same views the CLI's ``--json`` prints (``exports/views.py``), so
the two never drift apart; these models only make ``/openapi.json`` say exactly what they hold.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from zenodo_export.snapshots.options import request_default
from zenodo_export.store.models import AlertLevel, ExportState, JobStatus

MAX_ID = 2**31 - 1
"""The largest id a path or query may name: ids are PostgreSQL ``integer`` columns, and a bigger
one is refused here (422 naming it) rather than sent to the database (an error there)."""

NO_NUL = r"^[^\x00]*$"
"""Text without a NUL character (no database stores one)."""


class Model(BaseModel):
    """An answer: its fields are exactly those documented."""

    model_config = ConfigDict(extra="forbid")


class Body(BaseModel):
    """A request body: unknown fields are refused, naming them."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Model):
    """What went wrong: the status, a message naming the field at fault, and that field."""

    status: int
    message: str
    field: str | None


class ErrorBody(Model):
    """Every error answer."""

    error: ErrorDetail


class FilePublic(Model):
    """A file uploaded to Zenodo: its size and md5 as Zenodo confirmed them."""

    size: int | None
    md5: str | None


class ExportPublic(Model):
    """An export as ``zenodo-export show --json`` prints it."""

    id: int
    type: str
    name: str
    state: ExportState
    url: str | None
    doi: str | None
    concept_doi: str | None
    record_id: int | None
    concept_rec_id: int | str | None
    deposition_id: int | None
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    started_exporting_at: dt.datetime | None
    finished_exporting_at: dt.datetime | None
    failed_at: dt.datetime | None
    data: dict[str, Any]
    files: dict[str, FilePublic]
    files_kept: str | None


class ExportList(Model):
    """One page of exports, newest first, and the URLs of the pages around it."""

    items: list[ExportPublic]
    next: str | None = Field(description="The next (older) page; null on the last page.")
    previous: str | None = Field(description="The previous (newer) page; null on the first.")
    total: int = Field(description="How many exports match the filters, on every page.")


class JobPublic(Model):
    """An export's active job: where it is in the queue, and why it waits."""

    id: int
    kind: str
    status: JobStatus
    queue: str
    attempts: int
    next_attempt_at: dt.datetime | None
    running_on: str | None
    waiting_because: str | None


class AlertPublic(Model):
    """An alert as ``zenodo-export alerts --json`` prints it."""

    uuid: str
    export_id: int | None
    class_name: str
    message: str
    level: AlertLevel
    hostname: str | None
    resolved: bool
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    backtrace: str | None


class VersionPublic(Model):
    """Another export of the same name (a version of the same record)."""

    id: int
    state: ExportState
    created_at: dt.datetime
    url: str | None
    doi: str | None


class ExportDetail(ExportPublic):
    """An export with its active job, why it waits, its alerts and its name's other versions."""

    job: JobPublic | None
    waiting: str | None
    alerts: list[AlertPublic]
    versions: list[VersionPublic]


class ExportCreate(Body):
    """A new export of files already on the server, as ``zenodo-export export`` takes it.

    ``files`` are absolute paths under a folder of ``ZENODO_EXPORT_WEB_FILES_DIRS``; what is
    left out takes the command's default (``CREATOR``, ``GITHUB_URL``, today, the license).
    """

    name: str
    files: list[str]
    title: str
    description: str
    keywords: list[str]
    creators: list[str] | None = None
    publication_date: str | None = Field(default=None, description="YYYY-MM-DD; today if left out")
    code_repository_url: str | None = None
    license: str | None = None
    version: str | None = None
    communities: list[str] = []
    versioning: Literal["native", "related-identifier", "none"] | None = None


class ExportEdit(Body):
    """Metadata to change on a queued export; fields left out stay as they are."""

    title: str | None = None
    description: str | None = None
    creators: list[str] | None = None
    keywords: list[str] | None = None
    publication_date: str | None = None
    code_repository_url: str | None = None
    license: str | None = None
    version: str | None = None
    communities: list[str] | None = None


class Edited(Model):
    """What an edit changed, and the export after it."""

    changed: list[str]
    export: ExportPublic


class Retried(Model):
    """An export queued again, and its job."""

    job_id: int
    export: ExportPublic


class CancelledPublic(Model):
    """A cancelled export, and what became of its draft on Zenodo."""

    was_running: bool
    jobs_stopped: int
    draft: str | None = Field(description="What was done with its Zenodo draft, if it had one.")
    export: ExportPublic


class Deleted(Model):
    """A deleted export and the bytes of staged files removed with it."""

    id: int
    freed_bytes: int


class AlertList(Model):
    """One page of alerts, newest first."""

    items: list[AlertPublic]
    next: str | None
    previous: str | None


class AlertGroupPublic(Model):
    """Alerts of one class and message, as Lagotto's admin page grouped them."""

    class_name: str
    message: str
    count: int
    latest_at: dt.datetime


class ResolveAlike(Body):
    """Resolve every unresolved alert of this class and message (one group)."""

    class_name: str = Field(min_length=1, max_length=255, pattern=NO_NUL)
    message: str = Field(min_length=1, pattern=NO_NUL)


class ResolvedCount(Model):
    """How many alerts were resolved."""

    resolved: int


class SchedulePublic(Model):
    """A schedule of the config file, as ``zenodo-export schedule list --json`` prints it."""

    name: str
    target: str
    job_kind: str
    rule: str
    cron: str
    timezone: str
    last_period: str | None
    last_fired_at: dt.datetime | None
    last_export_id: int | None
    next_run: dt.datetime


class Started(Model):
    """An export (or snapshot) started now."""

    export: ExportPublic


class ReportPublic(Model):
    """A report of the config file and its newest export."""

    name: str
    schedule: str | None
    source: Literal["query", "files"]
    missing_settings: list[str] = Field(description="Settings it needs that are not set.")
    latest: ExportPublic | None


class SnapshotStart(Body):
    """A snapshot to start, with the ``snapshot`` command's options and checks.

    Headers read from the server's environment are not taken here (they would let a caller
    send the server's secrets to any host): give them in a ``[snapshots.NAME]`` entry.
    """

    url: str
    pages_per_job: int = request_default("pages_per_job")
    start_page: int = request_default("start_page")
    stop_page: int | None = request_default("stop_page")
    concurrency: int = request_default("concurrency")
    upload: bool = request_default("upload")
    benchmark: bool = request_default("benchmark")
    allow_hosts: list[str] = []
    allow_private: bool = request_default("allow_private")


class JobCount(Model):
    """How many jobs of one kind are in one status."""

    kind: str
    status: JobStatus
    count: int


class WaitingPublic(Model):
    """The job that has waited longest for a worker."""

    job_id: int
    kind: str
    export_id: int | None
    since: dt.datetime
    age_seconds: float


class WorkerPublic(Model):
    """A worker as it last reported itself, and whether it is alive now."""

    id: str
    hostname: str
    pid: int
    queues: list[str]
    concurrency: int
    started_at: dt.datetime
    last_seen_at: dt.datetime
    stopped_at: dt.datetime | None
    alive: bool


class QueuePublic(Model):
    """The job queue now: counts, the oldest waiting job, the workers seen."""

    jobs: list[JobCount]
    ready: int = Field(description="Jobs a worker could take now.")
    oldest_waiting: WaitingPublic | None
    workers: list[WorkerPublic]

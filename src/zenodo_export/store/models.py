"""The tables: ``data_exports`` (single-table inheritance, as Lagotto), ``jobs``, ``alerts``,
the rate-limit log, the reports' ``file_write_logs`` and the schedules' ``schedule_runs``.

JSON columns are ``MutableDict``: setting or deleting a top-level key is saved; a change
nested deeper is not, so reassign the top-level key (``export.uploads[name] = {...}``). Keep a
reference to the row while changing it (``export = get_export(...)`` first): a dict only
knows its row weakly, and ``get_export(...).uploads[k] = v`` may lose the change.
All timestamps are aware UTC datetimes on every backend.
"""

from __future__ import annotations

import datetime as dt
import socket
import uuid
from typing import Any, ClassVar, Literal, get_args

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from zenodo_export.clock import utcnow
from zenodo_export.exports.spec import ExportSpec, check_files, parse_spec
from zenodo_export.filestore.staged import StagedFile
from zenodo_export.store.types import MUTABLE_JSON, UTCDateTime

ExportState = Literal["pending", "processing", "done", "failed"]
JobStatus = Literal["queued", "running", "done", "failed"]
AlertLevel = Literal["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]

EXPORT_STATES: tuple[ExportState, ...] = get_args(ExportState)
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
ACTIVE_JOB_STATUSES: tuple[JobStatus, ...] = ("queued", "running")
ALERT_LEVELS: tuple[AlertLevel, ...] = get_args(AlertLevel)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


def new_key() -> str:
    """Return a fresh random hex key (export keys, lease tokens)."""
    return uuid.uuid4().hex


def derive_state(
    *,
    failed_at: dt.datetime | None,
    finished_at: dt.datetime | None,
    started_at: dt.datetime | None,
) -> ExportState:
    """Derive an export's state from its timestamps, as Lagotto does."""
    if failed_at is not None:
        return "failed"
    if finished_at is not None:
        return "done"
    if started_at is not None:
        return "processing"
    return "pending"


class Base(DeclarativeBase):
    """Declarative base of every table, with deterministic constraint names."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}


class Timestamped:
    """``created_at`` and ``updated_at``, set by the application clock."""

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DataExport(Timestamped, Base):
    """One export of files to an archive; its kind is the ``type`` column."""

    __tablename__ = "data_exports"
    __table_args__ = (Index(None, "type", "name"),)
    __mapper_args__ = {"polymorphic_on": "type"}  # noqa: RUF012

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    export_key: Mapped[str] = mapped_column(String(32), unique=True, default=new_key)
    url: Mapped[str | None] = mapped_column(String(2048))
    data: Mapped[dict[str, Any]] = mapped_column(MUTABLE_JSON, default=dict)
    started_exporting_at: Mapped[dt.datetime | None]
    finished_exporting_at: Mapped[dt.datetime | None]
    failed_at: Mapped[dt.datetime | None]
    deposition_id: Mapped[int | None] = mapped_column(BigInteger)
    bucket_url: Mapped[str | None] = mapped_column(String(2048))
    record_id: Mapped[int | None] = mapped_column(BigInteger)
    doi: Mapped[str | None] = mapped_column(String(255))
    concept_rec_id: Mapped[str | None] = mapped_column(String(64))
    concept_doi: Mapped[str | None] = mapped_column(String(255))
    uploads: Mapped[dict[str, Any]] = mapped_column(MUTABLE_JSON, default=dict)
    remote_deposition: Mapped[dict[str, Any] | None] = mapped_column(MUTABLE_JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    @hybrid_property
    def state(self) -> ExportState:
        """Return ``failed``, ``done``, ``processing`` or ``pending`` from the timestamps."""
        return derive_state(
            failed_at=self.failed_at,
            finished_at=self.finished_exporting_at,
            started_at=self.started_exporting_at,
        )

    @state.inplace.expression
    @classmethod
    def _state_expression(cls) -> ColumnElement[str]:
        return case(
            (cls.failed_at.is_not(None), "failed"),
            (cls.finished_exporting_at.is_not(None), "done"),
            (cls.started_exporting_at.is_not(None), "processing"),
            else_="pending",
        )

    @property
    def spec(self) -> ExportSpec:
        """Return the validated attributes (raises ``InvalidExport`` if ``data`` is damaged)."""
        return parse_spec({"name": self.name, **self.data})

    @property
    def files(self) -> tuple[str, ...]:
        """Return the absolute paths of the files to upload."""
        return self.spec.files

    @property
    def publication_date(self) -> dt.date:
        """Return the record's publication date."""
        return self.spec.publication_date

    @property
    def title(self) -> str:
        """Return the record's title."""
        return self.spec.title

    @property
    def description(self) -> str:
        """Return the record's description."""
        return self.spec.description

    @property
    def creators(self) -> tuple[str, ...]:
        """Return the creators' names."""
        return self.spec.creators

    @property
    def keywords(self) -> tuple[str, ...]:
        """Return the record's keywords."""
        return self.spec.keywords

    @property
    def code_repository_url(self) -> str:
        """Return the URL of the code that made the export."""
        return self.spec.code_repository_url

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={self.id} name={self.name!r} state={self.state}>"


def with_staged(attributes: dict[str, Any]) -> dict[str, Any]:
    """Return export attributes with ``StagedFile`` items of ``files`` moved to ``staged``, or
    the host of this machine recorded for files read in place."""
    files = attributes.get("files")
    items = list(files) if isinstance(files, list | tuple) else []
    if items and all(isinstance(item, StagedFile) for item in items):
        return {**attributes, "files": [item.source for item in items], "staged": tuple(items)}
    if attributes.get("staged"):
        return attributes
    return {**attributes, "host": attributes.get("host") or socket.gethostname()}


class ZenodoDataExport(DataExport):
    """A group of local files archived as one Zenodo record."""

    __mapper_args__ = {"polymorphic_identity": "ZenodoDataExport"}  # noqa: RUF012

    @classmethod
    def create(cls, session: Session, **attributes: Any) -> ZenodoDataExport:
        """Validate the attributes and files, add the export and flush it; upload nothing.

        ``files`` are paths, read in place by a worker of this machine only (the export records
        its host), or the ``StagedFile`` entries ``stage_files`` returned, which any worker
        reads from the files store. Raises ``InvalidExport`` naming the bad field or file.
        """
        spec = parse_spec(with_staged(attributes))
        check_files(spec)
        export = cls(name=spec.name, data=spec.to_data(), export_key=new_key())
        session.add(export)
        session.flush()
        return export


_PUBLISHED = and_(DataExport.failed_at.is_(None), DataExport.finished_exporting_at.is_not(None))
# The numbers of /metrics and the overview read these alone, not the wide rows (migration 0006).
Index(
    "ix_data_exports_state",
    DataExport.failed_at,
    DataExport.finished_exporting_at,
    DataExport.started_exporting_at,
)
Index(
    "ix_data_exports_published",
    DataExport.type,
    DataExport.name,
    DataExport.finished_exporting_at,
    DataExport.id,
    sqlite_where=_PUBLISHED,
    postgresql_where=_PUBLISHED,
)


class ApiSnapshot(DataExport):
    """A dump of a paginated JSON API (placeholder for later work)."""

    __mapper_args__ = {"polymorphic_identity": "ApiSnapshot"}  # noqa: RUF012


class Job(Timestamped, Base):
    """A unit of background work; claimed by a worker with a lease."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_one_of("status", JOB_STATUSES), name="status"),
        Index(None, "status", "run_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    export_id: Mapped[int | None] = mapped_column(
        ForeignKey("data_exports.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(MUTABLE_JSON, default=dict)
    queue: Mapped[str] = mapped_column(String(64), default="default")
    status: Mapped[JobStatus] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    run_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_expires_at: Mapped[dt.datetime | None]
    claimed_at: Mapped[dt.datetime | None]
    lost_count: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_by: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"<Job id={self.id} kind={self.kind} export={self.export_id} {self.status}>"


_ACTIVE_PER_EXPORT = and_(Job.status.in_(ACTIVE_JOB_STATUSES), Job.export_id.is_not(None))
Index(
    "uq_jobs_active_kind_export_id",
    Job.kind,
    Job.export_id,
    unique=True,
    sqlite_where=_ACTIVE_PER_EXPORT,
    postgresql_where=_ACTIVE_PER_EXPORT,
)


Index("ix_jobs_kind_status", Job.kind, Job.status)


class Installation(Base):
    """The one row naming this installation (its database): drafts it makes carry the key."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32))
    session_secret: Mapped[str | None] = mapped_column(String(64))
    """Signs the dashboard's session cookies, shared by every ``serve`` process; never shown."""

    def __repr__(self) -> str:
        return f"<Installation {self.key}>"


class Alert(Base):
    """A failure worth a human's attention, with its backtrace (Lagotto's Notification)."""

    __tablename__ = "alerts"
    __table_args__ = (CheckConstraint(_one_of("level", ALERT_LEVELS), name="level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    class_name: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    backtrace: Mapped[str | None] = mapped_column(Text)
    level: Mapped[AlertLevel] = mapped_column(String(8), default="ERROR")
    hostname: Mapped[str | None] = mapped_column(String(255))
    export_id: Mapped[int | None] = mapped_column(
        ForeignKey("data_exports.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"<Alert {self.uuid} {self.level} {self.class_name}>"


class RateLimitEvent(Base):
    """One request sent to Zenodo, counted against its key's budget (``store/ratelimit.py``)."""

    __tablename__ = "rate_limit_events"
    __table_args__ = (Index(None, "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Double)

    def __repr__(self) -> str:
        return f"<RateLimitEvent {self.key} at={self.at}>"


class FileWriteLog(Base):
    """One file a report wrote, with its kind and when (Lagotto's ``file_write_logs``)."""

    __tablename__ = "file_write_logs"
    __table_args__ = (Index(None, "filepath"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filepath: Mapped[str] = mapped_column(String(4096))
    file_type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<FileWriteLog {self.file_type} {self.filepath}>"


class ScheduleRun(Base):
    """One period of one schedule, fired once: the unique pair is what makes it exactly once."""

    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("schedule", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule: Mapped[str] = mapped_column(String(255))
    period: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[dt.datetime]
    job_id: Mapped[int | None] = mapped_column(Integer)
    export_id: Mapped[int | None] = mapped_column(
        ForeignKey("data_exports.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ScheduleRun {self.schedule} {self.period} export={self.export_id}>"


Role = Literal["viewer", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)


class ApiToken(Base):
    """A token of the web API and dashboard; only its SHA-256 digest is kept (store/tokens.py)."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(String(8))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"<ApiToken {self.name} {self.role}>"


class WorkerSeen(Base):
    """A worker process as it last reported itself (``store/workers.py``)."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[str] = mapped_column(String(1024))
    concurrency: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime] = mapped_column(index=True)
    stopped_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"<WorkerSeen {self.id} last seen {self.last_seen_at}>"

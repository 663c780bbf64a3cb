"""The config file (TOML): ``[reports.NAME]``, ``[snapshots.NAME]`` and ``[schedules]``.

Its path is the setting ``ZENODO_EXPORT_CONFIG`` (``Settings.config``; ``config.toml`` in the
data dir by default). It is read at the edges (a command, a worker's start, a job) with
``load_config_file(settings)``; every problem is ONE ``ConfigError`` line naming the file, the
entry and the key::

    /srv/config.toml: snapshots.works.stop_page: 2 is before the start page 4

A missing file is no reports and no schedules, unless ``ZENODO_EXPORT_CONFIG`` names it. A
snapshot entry is a ``SnapshotRequest`` (``snapshots/options.py``): the same options, defaults
and checks as the ``snapshot`` command (``upload`` is false unless the entry says
``upload = true``: publishing cannot be taken back), and ``headers`` whose values name
environment variables. Which schedules the file defines: ``schedules/configured.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from zenodo_export import defaults
from zenodo_export.errors import ConfigError, NotFound
from zenodo_export.settings import Settings
from zenodo_export.snapshots.options import SnapshotRequest
from zenodo_export.validation import first_error

TEMPLATE_FIELDS = ("name", "sitenamelong", "date", "month", "period")
"""The ``{placeholders}`` a title or description template may use."""

DEFAULT_TITLE = "Cumulative {sitenamelong} Report - {month}"
"""Lagotto's monthly report title."""

DEFAULT_DESCRIPTION = (
    "This dataset contains the cumulative {sitenamelong} stats for all works through {date}."
)
"""Lagotto's monthly report description: cumulative stats for all works through the date."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_template(value: str) -> str:
    """Refuse a template with a placeholder outside ``TEMPLATE_FIELDS`` or bad braces."""
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"bad template: {exc}") from None
    for _, field, _, _ in parsed:
        if field is not None and field not in TEMPLATE_FIELDS:
            known = ", ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS)
            raise ValueError(f"unknown placeholder {{{field}}} (known: {known})")
    return value


def monthly_rule(day: int, time: str) -> str:
    """Return the cron rule of ``monthly``: minute hour day-of-month every month."""
    hour, minute = time.split(":")
    return f"{int(minute)} {int(hour)} {day} * *"


def check_rule(value: str) -> str:
    """Refuse a schedule that is neither ``monthly`` nor a cron expression cronsim accepts."""
    if value == "monthly":
        return value
    try:
        CronSim(value, dt.datetime(2000, 1, 1))
    except CronSimError as exc:
        raise ValueError(f"{value!r} is neither 'monthly' nor a cron rule: {exc}") from None
    return value


def outside_roots(path: Path, roots: tuple[Path, ...]) -> bool:
    """Tell whether ``path``, its symlinks followed, lies outside every one of ``roots``."""
    real = path.resolve()
    return not any(real.is_relative_to(root.resolve()) for root in roots)


def confinement_problem(path: Path, roots: tuple[Path, ...]) -> str | None:
    """Return why a report may not read ``path`` (outside the allowed folders), or None."""
    if not outside_roots(path, roots):
        return None
    where = ", ".join(str(root) for root in roots)
    link = " (a symlink pointing out of it)" if path.is_symlink() else ""
    return f"{path}{link} is outside {where}; add its folder to file_roots to allow it"


def _duplicate_names(files: tuple[Path, ...]) -> str | None:
    seen: dict[str, Path] = {"README.md": Path("README.md")}
    for path in files:
        if path.name in seen:
            return f"two files named {path.name!r} in the zip: {seen[path.name]} and {path}"
        seen[path.name] = path
    return None


class ReportEntry(BaseModel):
    """One ``[reports.NAME]`` table: a SQL query to CSV, or existing files, zipped and exported.

    Relative ``files`` are relative to the config file's folder; every file must lie (its
    symlinks followed) inside that folder or one of the config file's ``file_roots``, and
    no two may share a name in the zip (``README.md`` is the report's own).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    query: str | None = Field(default=None, min_length=1)
    database_url: str | None = Field(default=None, validate_default=True)
    files: tuple[Path, ...] = Field(default=(), validate_default=True)
    title: str | None = None
    description: str | None = None
    keywords: tuple[str, ...] = Field(default=defaults.REPORT_KEYWORDS, min_length=1)
    creators: tuple[str, ...] | None = Field(default=None, min_length=1)
    code_repository_url: str | None = None
    license: str | None = None
    schedule: str | None = None
    timeout_seconds: float = Field(default=defaults.REPORT_TIMEOUT_SECONDS, gt=0)
    _roots: tuple[Path, ...] = PrivateAttr(default=())

    @property
    def roots(self) -> tuple[Path, ...]:
        """Return the folders this report's ``files`` must lie in."""
        return self._roots

    @field_validator("database_url")
    @classmethod
    def _url_with_query(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("query") and not value:
            raise ValueError("required with query (a SQLAlchemy URL)")
        if value and not info.data.get("query"):
            raise ValueError("only used with query")
        return value

    @field_validator("files")
    @classmethod
    def _query_or_files(cls, value: tuple[Path, ...], info: ValidationInfo) -> tuple[Path, ...]:
        if value and info.data.get("query"):
            raise ValueError("give query or files, not both")
        if not value and not info.data.get("query"):
            raise ValueError("a report needs query (with database_url) or files")
        context = info.context or {}
        base = Path(context.get("base", "."))
        files = tuple(base / path.expanduser() for path in value)
        for path in files:
            problem = confinement_problem(path, tuple(context.get("roots", (base,))))
            if problem:
                raise ValueError(problem)
        duplicate = _duplicate_names(files)
        if duplicate:
            raise ValueError(duplicate)
        return files

    @model_validator(mode="after")
    def _keep_roots(self, info: ValidationInfo) -> ReportEntry:
        context = info.context or {}
        self._roots = tuple(context.get("roots", (Path(context.get("base", ".")),)))
        return self

    @field_validator("title", "description")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return None if value is None else check_template(value)

    @field_validator("schedule")
    @classmethod
    def _rule(cls, value: str | None) -> str | None:
        return None if value is None else check_rule(value)


class SchedulesSection(BaseModel):
    """The ``[schedules]`` table: what ``monthly`` means, the time zone, the catch-up bound."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    monthly_day: int = Field(default=defaults.MONTHLY_DAY, ge=1, le=28)
    monthly_time: str = Field(default=defaults.MONTHLY_TIME, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = "UTC"
    max_catch_up: int = Field(default=defaults.MAX_CATCH_UP, ge=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def rule_of(self, schedule: str) -> str:
        """Return the cron rule of an entry's ``schedule`` value (``monthly`` expanded)."""
        if schedule == "monthly":
            return monthly_rule(self.monthly_day, self.monthly_time)
        return schedule


class SnapshotEntry(SnapshotRequest):
    """One ``[snapshots.NAME]`` table: a ``SnapshotRequest`` with an optional ``schedule``.

    Every option has the command's default, ``upload`` too: a record with a DOI cannot be
    taken back, so an entry publishes only when it says ``upload = true``.
    """

    schedule: str | None = None

    @field_validator("schedule")
    @classmethod
    def _rule(cls, value: str | None) -> str | None:
        return None if value is None else check_rule(value)


class ConfigFile(BaseModel):
    """The whole config file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file_roots: tuple[Path, ...] = ()
    reports: dict[str, ReportEntry] = Field(default_factory=dict)
    schedules: SchedulesSection = Field(default_factory=SchedulesSection)
    snapshots: dict[str, SnapshotEntry] = Field(default_factory=dict)
    _path: Path = PrivateAttr(default=Path(defaults.CONFIG_FILE))

    @property
    def path(self) -> Path:
        """Return the file this was read from (or would be)."""
        return self._path

    @field_validator("reports", "snapshots")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(f"{name!r}: names are letters, digits, '_', '.', '-'")
        return value

    def report(self, name: str) -> ReportEntry:
        """Return one report's entry; ``NotFound`` naming the known ones."""
        if name not in self.reports:
            known = _known(self.reports)
            raise NotFound(f"report {name!r} is not in {self.path} (reports: {known})")
        return self.reports[name]

    def snapshot(self, name: str) -> SnapshotEntry:
        """Return one snapshot's entry; ``NotFound`` naming the known ones."""
        if name not in self.snapshots:
            known = _known(self.snapshots)
            raise NotFound(f"snapshot {name!r} is not in {self.path} (snapshots: {known})")
        return self.snapshots[name]


def _known(entries: Mapping[str, Any]) -> str:
    return ", ".join(sorted(entries)) or "none"


def parse_config_file(data: Mapping[str, Any], path: Path) -> ConfigFile:
    """Validate parsed TOML; the first problem is one ``ConfigError`` naming its entry and key."""
    base = path.parent
    roots = file_roots(data, base)
    try:
        config_file = ConfigFile.model_validate(dict(data), context={"base": base, "roots": roots})
    except ValidationError as exc:
        where, message = first_error(exc)
        raise ConfigError(f"{path}: {where or 'config'}: {message}") from None
    config_file._path = path
    return config_file


def file_roots(data: Mapping[str, Any], base: Path) -> tuple[Path, ...]:
    """Return the folders reports may read files from: the config file's, and ``file_roots``."""
    listed = data.get("file_roots", ())
    if not isinstance(listed, list | tuple):
        return (base,)  # validation reports the bad value
    return (base, *(base / Path(str(root)).expanduser() for root in listed))


MAX_CONFIG_BYTES = 1024 * 1024
"""Largest config file read (a config is a few kilobytes; a bigger one is a wrong path)."""


def config_text(path: Path) -> str:
    """Return the text of a config file: a regular file of at most ``MAX_CONFIG_BYTES``, UTF-8.

    It is opened without blocking, so that a named pipe or a device given by mistake is
    refused at once rather than read forever.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ConfigError(f"{path}: not a regular file")
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes; is it the config file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def read_config_file(path: Path) -> ConfigFile:
    """Read and validate one config file."""
    text = config_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deep") from None
    return parse_config_file(data, path)


def load_config_file(settings: Settings) -> ConfigFile:
    """Load the configured file; a missing default file means no reports and no schedules."""
    path = settings.config_path
    if settings.config is None and not path.exists():
        return parse_config_file({}, path)
    return read_config_file(path)

"""What a snapshot is asked to do, defined once, and what it was created with.

``SnapshotRequest`` is the one definition of a snapshot's options, their defaults and their
checks: the ``snapshot`` command builds one from its options (``parse_request``), a
``[snapshots.NAME]`` entry of the config file is one (``config_file.SnapshotEntry``), and
``create_snapshot`` takes one. ``SnapshotOptions`` is a request as created (its date, folder
and the record's creators), stored in the snapshot's ``data`` and read by every job run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from zenodo_export.errors import InvalidExport
from zenodo_export.snapshots.pagination import dump_name, snapshot_name
from zenodo_export.snapshots.policy import MAX_URL_LENGTH, UNSAFE, parse_allowed
from zenodo_export.snapshots.secrets import (
    check_headers,
    header_values,
    public_url,
    url_problem,
)
from zenodo_export.validation import first_error

PAGES_PER_JOB = 10
"""Pages crawled per job run (Lagotto's default)."""

CONCURRENCY = 4
"""Pages of one chunk fetched at the same time when page numbers are known (config file too)."""


class SnapshotRequest(BaseModel):
    """A snapshot's URL, how to cut and pace the crawl, and what to do when it is done."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    pages_per_job: int = Field(default=PAGES_PER_JOB, ge=1)
    start_page: int = Field(default=1, ge=1)
    stop_page: int | None = Field(default=None, ge=1)
    concurrency: int = Field(default=CONCURRENCY, ge=1)
    upload: bool = False
    benchmark: bool = False
    # Secrets (snapshots/secrets.py): header name -> "env:VARIABLE", read at crawl time.
    headers: dict[str, str] = Field(default_factory=dict)
    # Crawl policy (snapshots/policy.py): more hosts to follow, private addresses allowed.
    allow_hosts: tuple[str, ...] = ()
    allow_private: bool = False

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str, info: ValidationInfo) -> str:
        if len(value) > MAX_URL_LENGTH:
            raise ValueError(f"a URL longer than {MAX_URL_LENGTH} characters")
        if UNSAFE.search(value) and not (info.context or {}).get("stored"):
            raise ValueError("holds a space or a control character (encode it: %20, ...)")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{public_url(value)!r} is not an http(s) URL with a host")
        problem = url_problem(value)
        # A snapshot stored before credentials were refused still runs (it is shown without them).
        if problem and not (info.context or {}).get("stored"):
            raise ValueError(problem)
        return value

    @field_validator("headers")
    @classmethod
    def _env_headers(cls, value: dict[str, str]) -> dict[str, str]:
        return check_headers(value)

    def header_values(self) -> dict[str, str]:
        """Return the headers to send with every page, read now from the environment.

        Never store or show what this returns; ``ConfigError`` if a variable is not set.
        """
        return header_values(self.headers)

    @field_validator("allow_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            parse_allowed(entry)  # a ValueError naming the entry
        return value

    @field_validator("stop_page")
    @classmethod
    def _not_before_start(cls, value: int | None, info: ValidationInfo) -> int | None:
        start = info.data.get("start_page")
        if value is not None and start is not None and value < start:
            raise ValueError(f"{value} is before the start page {start}")
        return value


def request_default(option: str) -> Any:
    """Return the default of one option of ``SnapshotRequest`` (the command shows the same)."""
    return SnapshotRequest.model_fields[option].get_default()


def parse_request(values: Mapping[str, Any]) -> SnapshotRequest:
    """Validate a snapshot's options; the first problem is one ``InvalidExport`` naming it."""
    try:
        return SnapshotRequest.model_validate(dict(values))
    except ValidationError as exc:
        field, message = first_error(exc)
        raise InvalidExport(field or "snapshot", message) from None


class SnapshotOptions(SnapshotRequest):
    """A request as created: its date, its folder and the record's creators and code link."""

    date: str
    directory: str
    creators: tuple[str, ...] = ()
    code_repository_url: str | None = None

    @classmethod
    def of(
        cls,
        request: SnapshotRequest,
        *,
        date: dt.date,
        directory: Path,
        creators: tuple[str, ...],
        code_repository_url: str | None,
    ) -> SnapshotOptions:
        """Return the options a request is created with (only the request's own fields)."""
        asked = {name: getattr(request, name) for name in SnapshotRequest.model_fields}
        return cls(
            **asked,
            date=date.isoformat(),
            directory=str(directory),
            creators=creators,
            code_repository_url=code_repository_url,
        )

    @property
    def name(self) -> str:
        """Return the snapshot's name; uploads of one name are versions of one record."""
        return snapshot_name(self.url)

    @property
    def dump_path(self) -> Path:
        """Return where the finished dump goes."""
        return Path(self.directory) / dump_name(self.url, self.date)

    @property
    def parts_dir(self) -> Path:
        """Return where the chunks' part files are kept until the dump is assembled."""
        return Path(self.directory) / "parts"

    def to_data(self) -> dict[str, Any]:
        """Return the options as JSON-ready data."""
        return self.model_dump(mode="json")

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SnapshotOptions:
        """Rebuild options stored with ``to_data`` (other keys of ``data`` are ignored)."""
        stored = {name: data[name] for name in cls.model_fields if name in data}
        return cls.model_validate(stored, context={"stored": True})


def check_upload(creators: tuple[str, ...], code_repository_url: str | None) -> None:
    """Refuse an upload without a creator or code repository (``CREATOR``, ``GITHUB_URL``)."""
    if not creators or not all(name.strip() for name in creators):
        raise InvalidExport("creators", "an upload needs a creator: set CREATOR")
    if not code_repository_url:
        raise InvalidExport("code_repository_url", "an upload needs GITHUB_URL")


def snapshot_directory(data_dir: Path, date: dt.date, snapshot_id: int) -> Path:
    """Return Lagotto's ``snapshots/snapshot_<date>`` dir, one subdir per snapshot id.

    Two snapshots of one endpoint on one day never share (or overwrite) files.
    """
    return data_dir / "snapshots" / f"snapshot_{date.isoformat()}" / str(snapshot_id)

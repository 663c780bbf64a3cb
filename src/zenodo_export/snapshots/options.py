"""What a snapshot was asked to do, validated once when it is created and stored in ``data``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from zenodo_export.errors import InvalidExport
from zenodo_export.snapshots.pagination import dump_name, snapshot_name

PAGES_PER_JOB = 10
"""Pages crawled per job run (Lagotto's default)."""

CONCURRENCY = 4
"""Pages of one chunk fetched at the same time when page numbers are known."""


@dataclass(frozen=True)
class SnapshotOptions:
    """A snapshot's URL, how to cut and pace the crawl, and what to do when it is done."""

    url: str
    date: str
    directory: str
    pages_per_job: int = PAGES_PER_JOB
    start_page: int = 1
    stop_page: int | None = None
    concurrency: int = CONCURRENCY
    benchmark: bool = False
    upload: bool = False
    creators: tuple[str, ...] = ()
    code_repository_url: str | None = None

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
        data = asdict(self)
        data["creators"] = list(self.creators)
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SnapshotOptions:
        """Rebuild options stored with ``to_data`` (other keys of ``data`` are ignored)."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["creators"] = tuple(known.get("creators", ()))
        return cls(**known)


def check_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL; ``InvalidExport`` naming it otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidExport("url", f"{url!r} is not an http(s) URL with a host")
    return url


def _at_least_one(field_name: str, value: int) -> None:
    if value < 1:
        raise InvalidExport(field_name, f"must be at least 1, not {value}")


def check_options(
    *, pages_per_job: int, start_page: int, stop_page: int | None, concurrency: int
) -> None:
    """Refuse counts below 1 and a stop page before the start page, naming the option."""
    _at_least_one("pages_per_job", pages_per_job)
    _at_least_one("start_page", start_page)
    _at_least_one("concurrency", concurrency)
    if stop_page is not None and stop_page < start_page:
        raise InvalidExport("stop_page", f"{stop_page} is before the start page {start_page}")


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

"""What an export is made of: the seed's attributes, validated, plus optional Zenodo settings.

``ExportSpec`` is the one place that says what a valid export looks like. It is checked when
an export is created (so the user hears about a bad field at once) and again before anything
is uploaded (files may have changed since).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from zenodo_export import defaults
from zenodo_export.errors import InvalidExport
from zenodo_export.filestore.staged import StagedFile
from zenodo_export.validation import first_error

VersioningMode = Literal["native", "related-identifier", "none"]

SEED_FIELDS = (
    "name",
    "files",
    "publication_date",
    "title",
    "description",
    "creators",
    "keywords",
    "code_repository_url",
)
"""The attributes the seed requires of every ZenodoDataExport, in its order."""


class RelatedIdentifier(BaseModel):
    """One extra link from the record to something else (a DOI, a URL...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    identifier: str = Field(min_length=1)
    relation: str = Field(min_length=1)
    resource_type: str | None = None


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""Control characters: never in a published name, title, creator, keyword or file name (a
terminal escape or a line break there misleads whoever reads the record or a listing)."""

TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters a description may not hold (it may hold tabs and line breaks)."""


def _non_blank(value: str, what: str) -> str:
    if not value.strip():
        raise ValueError(f"{what} must not be blank")
    return value.strip()


def _no_control(value: str, pattern: re.Pattern[str] = CONTROL) -> str:
    found = pattern.search(value)
    if found is not None:
        raise ValueError(f"holds a control character ({ord(found.group()):#04x}) in {value!r}")
    return value


class ExportSpec(BaseModel):
    """A validated export: the seed's attributes and the Zenodo options we let users set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=255)
    files: tuple[str, ...] = Field(min_length=1, max_length=defaults.MAX_FILES_PER_RECORD)
    publication_date: dt.date
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    creators: tuple[str, ...] = Field(min_length=1)
    keywords: tuple[str, ...] = Field(min_length=1)
    code_repository_url: str = Field(min_length=1)
    license: str = defaults.LICENSE
    access_right: Literal["open", "embargoed", "restricted", "closed"] = "open"
    upload_type: str = defaults.UPLOAD_TYPE
    version: str | None = None
    communities: tuple[str, ...] = ()
    related_identifiers: tuple[RelatedIdentifier, ...] = ()
    versioning: VersioningMode | None = None
    # Where the files are: staged in the files store (one entry per file, in order), or in
    # place on ``host``, the machine that created the export (only its workers take the job).
    staged: tuple[StagedFile, ...] = ()
    host: str | None = None

    @field_validator("name", "title", "description", "code_repository_url", "license")
    @classmethod
    def _strip(cls, value: str) -> str:
        return _non_blank(value, "value")

    @field_validator("name", "title", "code_repository_url", "license", "version")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return value if value is None else _no_control(value)

    @field_validator("description")
    @classmethod
    def _text(cls, value: str) -> str:
        return _no_control(value, TEXT_CONTROL)

    @field_validator("creators", "keywords", "communities")
    @classmethod
    def _no_blank_items(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_no_control(_non_blank(item, "every item")) for item in value)

    @field_validator("files", mode="before")
    @classmethod
    def _paths_as_strings(cls, value: Any) -> Any:
        if isinstance(value, str | os.PathLike):
            raise ValueError("must be a list of file paths, not a single path")
        return tuple(os.fspath(item) if isinstance(item, os.PathLike) else item for item in value)

    @field_validator("files")
    @classmethod
    def _distinct_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: dict[str, str] = {}
        for path in value:
            name = Path(path).name
            if CONTROL.search(name):
                raise ValueError(f"the file name {name!r} holds a control character; rename it")
            if name in seen:
                raise ValueError(f"two files are both named {name!r}: {seen[name]} and {path}")
            seen[name] = path
        return tuple(str(Path(path).expanduser().absolute()) for path in value)

    @field_validator("code_repository_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        if "@" in value.partition("://")[2].split("/", 1)[0]:
            raise ValueError("must not hold a user name or password: it is published as it is")
        return value

    @model_validator(mode="after")
    def _staged_match_files(self) -> ExportSpec:
        if self.staged and [s.source for s in self.staged] != list(self.files):
            raise ValueError("staged files do not match the export's files")
        return self

    @property
    def file_names(self) -> tuple[str, ...]:
        """The names the files get on Zenodo (the last path segment)."""
        return tuple(Path(path).name for path in self.files)

    @property
    def in_place(self) -> bool:
        """Say whether the files are read where they are (not staged in the files store)."""
        return not self.staged

    def to_data(self) -> dict[str, Any]:
        """Return the JSON-ready attributes stored in the export's ``data`` column."""
        return self.model_dump(mode="json", exclude_none=True, exclude={"name"})


def parse_spec(attributes: Mapping[str, Any]) -> ExportSpec:
    """Validate export attributes; the first problem becomes one ``InvalidExport`` naming it."""
    try:
        return ExportSpec.model_validate(dict(attributes))
    except ValidationError as exc:
        field, message = first_error(exc)
        raise InvalidExport(field or "export", message) from None


def check_files(spec: ExportSpec, *, max_bytes: int = defaults.MAX_RECORD_BYTES) -> list[int]:
    """Check every file is a readable non-empty regular file within Zenodo's size limits.

    Returns the sizes in the order of ``spec.files``. Raises ``InvalidExport`` naming the file.
    Staged files were checked when they were staged: their recorded sizes are returned.
    """
    if spec.staged:
        return [staged.size for staged in spec.staged]
    return check_paths(spec.files, max_bytes=max_bytes)


def check_paths(paths: Sequence[str], *, max_bytes: int = defaults.MAX_RECORD_BYTES) -> list[int]:
    """Check files as ``check_files`` does; return their sizes."""
    sizes = [_checked_size(path, max_bytes) for path in paths]
    if sum(sizes) > max_bytes:
        raise InvalidExport(
            "files", f"{sum(sizes)} bytes in all, more than Zenodo's {max_bytes} per record"
        )
    return sizes


def _checked_size(path: str, max_bytes: int) -> int:
    file = Path(path)
    if not file.exists():
        raise InvalidExport("files", f"{path} does not exist")
    if not file.is_file():
        raise InvalidExport("files", f"{path} is not a regular file")
    if not os.access(file, os.R_OK):
        raise InvalidExport("files", f"{path} is not readable")
    size = file.stat().st_size
    if size == 0:
        raise InvalidExport("files", f"{path} is empty")
    if size > max_bytes:
        raise InvalidExport("files", f"{path} has {size} bytes, more than Zenodo's {max_bytes}")
    return size

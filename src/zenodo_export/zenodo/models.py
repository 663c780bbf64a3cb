"""Typed views of what Zenodo returns; the raw JSON is kept for storage and debugging."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RemoteFile:
    """A file of a deposition as Zenodo lists it (``filename``/``filesize``/bare md5 hex)."""

    id: str
    name: str
    size: int
    md5: str

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RemoteFile:
        """Read a file from the deposition view, or from a bucket object (``key``/``size``)."""
        checksum = str(raw.get("checksum") or "")
        return cls(
            id=str(raw.get("id") or raw.get("version_id") or ""),
            name=str(raw.get("filename") or raw.get("key") or ""),
            size=int(raw.get("filesize") or raw.get("size") or 0),
            md5=checksum.removeprefix("md5:"),
        )


@dataclass(frozen=True)
class Deposition:
    """A Zenodo deposition (draft or published) as the legacy deposit API serves it."""

    raw: dict[str, Any] = field(repr=False)

    @property
    def id(self) -> int:
        """The deposition (and record) id."""
        return int(self.raw["id"])

    @property
    def state(self) -> str:
        """``unsubmitted`` (never published), ``done`` (published) or ``inprogress`` (editing)."""
        return str(self.raw.get("state") or "")

    @property
    def submitted(self) -> bool:
        """Whether this deposition has been published."""
        return bool(self.raw.get("submitted"))

    @property
    def is_published(self) -> bool:
        """Whether the deposition is a published record not being edited."""
        return self.submitted and self.state == "done"

    @property
    def metadata(self) -> dict[str, Any]:
        """The deposition's metadata."""
        return dict(self.raw.get("metadata") or {})

    @property
    def links(self) -> dict[str, str]:
        """The links Zenodo gives with the deposition."""
        return dict(self.raw.get("links") or {})

    @property
    def bucket_url(self) -> str | None:
        """Where files are PUT; absent in list results."""
        return self.links.get("bucket")

    @property
    def concept_rec_id(self) -> str | None:
        """The id shared by all versions (a string on today's Zenodo)."""
        value = self.raw.get("conceptrecid")
        return str(value) if value not in (None, "") else None

    @property
    def doi(self) -> str | None:
        """The version's DOI, once published."""
        return self.raw.get("doi") or None

    @property
    def concept_doi(self) -> str | None:
        """The DOI of all versions, once the first is published."""
        return self.raw.get("conceptdoi") or None

    @property
    def record_url(self) -> str | None:
        """The public page of the published record."""
        links = self.links
        return links.get("record_html") or links.get("html") or links.get("latest_html")

    @property
    def files(self) -> tuple[RemoteFile, ...]:
        """The deposition's files (pending or failed uploads are not listed by Zenodo)."""
        return tuple(RemoteFile.from_json(item) for item in self.raw.get("files") or ())

    @property
    def title(self) -> str:
        """The deposition's title ("" on a fresh new-version draft)."""
        return str(self.raw.get("title") or self.metadata.get("title") or "")

"""The JSON shapes Zenodo serves today, built from the stored state.

The three file shapes differ on purpose, as on Zenodo: the deposition view has
``filename/filesize/checksum`` with a bare md5 hex; a bucket object and a record file have
``key/size/checksum`` with an ``md5:`` prefix. Links are absolute, built from the base URL
the client used (``Urls``), so that every link the sandbox hands out resolves on it.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from zenodo_export.sandbox import metadata
from zenodo_export.sandbox.defaults import DOI_PREFIX
from zenodo_export.sandbox.storage import Deposition, StoredFile


@dataclass(frozen=True)
class Urls:
    """Absolute URLs of the sandbox, from its base (``http://127.0.0.1:5000``)."""

    base: str

    @property
    def api(self) -> str:
        """Return the API root without a trailing slash."""
        return f"{self.base}/api"

    def deposition(self, dep_id: int) -> str:
        """Return a deposition's API URL."""
        return f"{self.api}/deposit/depositions/{dep_id}"

    def bucket(self, bucket: str) -> str:
        """Return a bucket's API URL."""
        return f"{self.api}/files/{bucket}"

    def record(self, record_id: int | str) -> str:
        """Return a record's API URL."""
        return f"{self.api}/records/{record_id}"

    def badge(self, doi: str) -> str:
        """Return a DOI badge's URL."""
        return f"{self.base}/badge/doi/{doi}.svg"


@dataclass(frozen=True)
class Versions:
    """Where a deposition stands among the published versions of its concept."""

    latest_id: int | None
    index: int
    is_last: bool


def doi(record_id: int) -> str:
    """Return the DOI Zenodo derives from a record (or concept) id."""
    return f"{DOI_PREFIX}/zenodo.{record_id}"


def doi_url(record_id: int) -> str:
    """Return the resolver URL of a record's DOI."""
    return f"https://doi.org/{doi(record_id)}"


def deposition_file(dep: Deposition, stored: StoredFile, urls: Urls) -> dict[str, Any]:
    """Return a file as the deposition view shows it (bare md5 hex)."""
    return {
        "id": stored.id,
        "filename": stored.key,
        "filesize": stored.size,
        "checksum": stored.md5,
        "links": {
            "self": f"{urls.deposition(dep.id)}/files/{stored.id}",
            "download": f"{urls.bucket(stored.bucket)}/{quote(stored.key)}",
        },
    }


def bucket_object(stored: StoredFile, urls: Urls) -> dict[str, Any]:
    """Return a file as the bucket API shows it (``md5:`` checksum)."""
    url = f"{urls.bucket(stored.bucket)}/{quote(stored.key)}"
    return {
        "key": stored.key,
        "size": stored.size,
        "mimetype": mimetypes.guess_type(stored.key)[0] or "application/octet-stream",
        "checksum": f"md5:{stored.md5}",
        "version_id": stored.id,
        "created": stored.created,
        "updated": stored.updated,
        "is_head": True,
        "delete_marker": False,
        "links": {
            "self": url,
            "version": f"{url}?versionId={stored.id}",
            "uploads": f"{url}?uploads",
        },
    }


def record_file(dep: Deposition, stored: StoredFile, urls: Urls) -> dict[str, Any]:
    """Return a file as the records API shows it (``md5:`` checksum, ``.../content`` link)."""
    return {
        "id": stored.id,
        "key": stored.key,
        "size": stored.size,
        "checksum": f"md5:{stored.md5}",
        "links": {"self": f"{urls.record(dep.id)}/files/{quote(stored.key, safe='')}/content"},
    }


def bucket(
    dep: Deposition, files: list[StoredFile], urls: Urls, *, quota: int, max_file: int
) -> dict[str, Any]:
    """Return a bucket with its contents."""
    return {
        "id": dep.bucket,
        "size": sum(f.size for f in files),
        "quota_size": quota,
        "max_file_size": max_file,
        "locked": dep.submitted,
        "created": dep.created,
        "updated": dep.modified,
        "links": {
            "self": urls.bucket(dep.bucket),
            "versions": f"{urls.bucket(dep.bucket)}?versions",
        },
        "contents": [bucket_object(f, urls) for f in files],
    }


def deposition(
    dep: Deposition,
    files: list[StoredFile],
    urls: Urls,
    versions: Versions,
    *,
    in_list: bool = False,
) -> dict[str, Any]:
    """Return a deposition as the legacy API serves it (no ``links.bucket`` in list results)."""
    body: dict[str, Any] = {
        "id": dep.id,
        "record_id": dep.id,
        "conceptrecid": str(dep.conceptrecid),
        "created": dep.created,
        "modified": dep.modified,
        "owner": dep.owner,
        "title": dep.metadata.get("title", ""),
        "state": dep.state,
        "submitted": dep.submitted,
        "metadata": metadata.dump(dep.metadata, dep.id, DOI_PREFIX),
        "files": [deposition_file(dep, f, urls) for f in files],
        "links": _deposition_links(dep, urls, versions, in_list=in_list),
    }
    if dep.submitted:
        body |= {
            "doi": doi(dep.id),
            "conceptdoi": doi(dep.conceptrecid),
            "doi_url": doi_url(dep.id),
        }
        body["metadata"]["doi"] = doi(dep.id)
    return body


def _deposition_links(
    dep: Deposition, urls: Urls, versions: Versions, *, in_list: bool
) -> dict[str, str]:
    self_url = urls.deposition(dep.id)
    links = {
        "self": self_url,
        "html": f"{urls.base}/deposit/{dep.id}",
        "badge": urls.badge(doi(dep.id)),
        "conceptbadge": urls.badge(doi(dep.conceptrecid)),
        "files": f"{self_url}/files",
        "latest_draft": self_url,
        "latest_draft_html": f"{urls.base}/deposit/{dep.id}",
        "publish": f"{self_url}/actions/publish",
        "edit": f"{self_url}/actions/edit",
        "discard": f"{self_url}/actions/discard",
        "newversion": f"{self_url}/actions/newversion",
    }
    if not in_list:
        links["bucket"] = urls.bucket(dep.bucket)
    if dep.submitted:
        latest = versions.latest_id or dep.id
        links |= {
            "doi": doi_url(dep.id),
            "parent_doi": doi_url(dep.conceptrecid),
            "record": urls.record(dep.id),
            "record_html": f"{urls.base}/records/{dep.id}",
            "latest": urls.record(latest),
            "latest_html": f"{urls.base}/records/{latest}",
        }
    return links


def record(
    dep: Deposition, files: list[StoredFile], urls: Urls, versions: Versions
) -> dict[str, Any]:
    """Return a published record as ``GET /api/records/:id`` serves it."""
    stored = dep.record_metadata or {}
    meta = metadata.dump(stored, dep.id, DOI_PREFIX)
    del meta["prereserve_doi"]
    if "license" in stored:
        meta["license"] = {"id": stored["license"]}
    meta["doi"] = doi(dep.id)
    meta["resource_type"] = {
        "type": stored.get("upload_type"),
        "title": str(stored.get("upload_type", "")).capitalize(),
    } | _subtype(stored)
    meta["relations"] = {
        "version": [
            {
                "index": versions.index,
                "is_last": versions.is_last,
                "parent": {"pid_type": "recid", "pid_value": str(dep.conceptrecid)},
            }
        ]
    }
    record_url = urls.record(dep.id)
    return {
        "id": dep.id,
        "recid": str(dep.id),
        "conceptrecid": str(dep.conceptrecid),
        "doi": doi(dep.id),
        "conceptdoi": doi(dep.conceptrecid),
        "doi_url": doi_url(dep.id),
        "created": dep.published,
        "updated": dep.modified,
        "modified": dep.modified,
        "owners": [{"id": dep.owner}],
        "title": stored.get("title", ""),
        "metadata": meta,
        "files": [record_file(dep, f, urls) for f in files],
        "state": "done",
        "submitted": True,
        "links": {
            "self": record_url,
            "self_html": f"{urls.base}/records/{dep.id}",
            "html": f"{urls.base}/records/{dep.id}",
            "doi": doi_url(dep.id),
            "parent_doi": doi_url(dep.conceptrecid),
            "badge": urls.badge(doi(dep.id)),
            "conceptbadge": urls.badge(doi(dep.conceptrecid)),
            "files": f"{record_url}/files",
            "latest": f"{record_url}/versions/latest",
            "latest_html": f"{urls.base}/records/{versions.latest_id or dep.id}",
            "versions": f"{record_url}/versions",
        },
    }


def _subtype(stored: dict[str, Any]) -> dict[str, Any]:
    subtype = stored.get("publication_type") or stored.get("image_type")
    return {"subtype": subtype} if subtype else {}

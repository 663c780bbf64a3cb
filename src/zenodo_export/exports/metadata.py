"""What an export becomes on Zenodo: the deposition metadata, built purely from the spec.

Lagotto's mapping is the default (upload type ``dataset``, access right ``open``, license
``cc-zero``, creators as plain names, keywords, ``isSupplementTo`` the code repository).
Every draft carries a mark in ``notes`` naming its installation and its export key while it is
a draft, so that a draft created by an attempt that died before storing the deposition id can
be found again and adopted, and so that the janitor of one installation never touches
another's drafts. The metadata sent just before publishing is unmarked (``marked=False``):
the published record says only "Archived by zenodo-export." and keeps no internal key.
"""

from __future__ import annotations

from typing import Any

from zenodo_export.exports.spec import ExportSpec

MARK_PREFIX = "zenodo-export export key "
"""Text before the export key in a draft's ``notes``; how our drafts are recognised."""

INSTALLATION_PREFIX = "zenodo-export installation "
"""Text before the installation key in a draft's ``notes``."""


def draft_mark(export_key: str, installation: str) -> str:
    """Return the text that marks a Zenodo draft as one export's of one installation."""
    marks = f"{INSTALLATION_PREFIX}{installation}; {MARK_PREFIX}{export_key}"
    return f"Archived by zenodo-export ({marks})."


def _marked(metadata: dict[str, Any], prefix: str) -> str | None:
    notes = metadata.get("notes") or ""
    start = notes.find(prefix)
    if start < 0:
        return None
    value = notes[start + len(prefix) :].split(")", 1)[0].split(";", 1)[0].strip()
    return value or None


def mark_in(metadata: dict[str, Any]) -> str | None:
    """Return the export key marked in a deposition's metadata, or None if unmarked."""
    return _marked(metadata, MARK_PREFIX)


def installation_in(metadata: dict[str, Any]) -> str | None:
    """Return the installation key marked in a deposition's metadata (None: unmarked, or made
    before installations were marked)."""
    return _marked(metadata, INSTALLATION_PREFIX)


PROVENANCE = "Archived by zenodo-export."
"""The notes of a published record: where it came from, without any internal key."""


def build_metadata(
    spec: ExportSpec,
    *,
    export_key: str,
    installation: str,
    previous_doi: str | None = None,
    marked: bool = True,
) -> dict[str, Any]:
    """Build the full Zenodo metadata for an export (a draft's, marked; or the record's).

    ``previous_doi`` is only given in ``related-identifier`` versioning mode, where the link
    to the previous version is Lagotto's ``isNewVersionOf`` relation.
    """
    metadata: dict[str, Any] = {
        "upload_type": spec.upload_type,
        "publication_date": spec.publication_date.isoformat(),
        "title": spec.title,
        "description": spec.description,
        "creators": [{"name": name} for name in spec.creators],
        "keywords": list(spec.keywords),
        "access_right": spec.access_right,
        "related_identifiers": _related_identifiers(spec, previous_doi),
        "notes": draft_mark(export_key, installation) if marked else PROVENANCE,
    }
    if spec.access_right in ("open", "embargoed"):
        metadata["license"] = spec.license
    if spec.version:
        metadata["version"] = spec.version
    if spec.communities:
        metadata["communities"] = [{"identifier": c} for c in spec.communities]
    return metadata


def _related_identifiers(spec: ExportSpec, previous_doi: str | None) -> list[dict[str, str]]:
    related = [{"identifier": spec.code_repository_url, "relation": "isSupplementTo"}]
    related += [item.model_dump(exclude_none=True) for item in spec.related_identifiers]
    if previous_doi:
        related.append({"identifier": previous_doi, "relation": "isNewVersionOf"})
    return related

"""Deposition metadata as Zenodo's legacy layer checks, normalises and reads it back.

``load`` turns what a client sends into the stored form (or raises a 400 listing every bad
field); ``dump`` turns the stored form back into the legacy JSON. The round trip is not the
identity, as on Zenodo: licenses go through aliases (``CC0-1.0`` reads back as ``cc-zero``),
creator names are split on exactly one comma and rebuilt (``Doe,Jane`` -> ``Doe, Jane``),
related-identifier relations are lower-cased to RDM ids and read back in legacy spelling.
Drafts may be incomplete; ``publish_errors`` lists what publishing needs.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Any

from zenodo_export.sandbox.errors import field_error, validation_error

UPLOAD_TYPES = (
    "publication", "poster", "presentation", "dataset", "image", "video", "software",
    "lesson", "physicalobject", "other",
)  # fmt: skip
PUBLICATION_TYPES = (
    "annotationcollection", "book", "section", "conferencepaper", "datamanagementplan",
    "article", "patent", "preprint", "deliverable", "milestone", "proposal", "report",
    "softwaredocumentation", "taxonomictreatment", "technicalnote", "thesis", "workingpaper",
    "other",
)  # fmt: skip
IMAGE_TYPES = ("figure", "plot", "drawing", "diagram", "photo", "other")
ACCESS_RIGHTS = ("open", "embargoed", "restricted", "closed")
RELATIONS = (
    "isCitedBy", "cites", "isSupplementTo", "isSupplementedBy", "isContinuedBy", "continues",
    "isDescribedBy", "describes", "hasMetadata", "isMetadataFor", "isNewVersionOf",
    "isPreviousVersionOf", "isPartOf", "hasPart", "isReferencedBy", "references",
    "isDocumentedBy", "documents", "isCompiledBy", "compiles", "isVariantFormOf",
    "isOriginalFormOf", "isIdenticalTo", "isAlternateIdentifier", "isReviewedBy", "reviews",
    "isDerivedFrom", "isSourceOf", "requires", "isRequiredBy", "isObsoletedBy", "obsoletes",
)  # fmt: skip
RELATION_BY_RDM_ID = {r.lower(): r for r in RELATIONS} | {"isorignialformof": "isOriginalFormOf"}
"""RDM relation id (lower-cased legacy name) -> legacy spelling; Zenodo fixes one typo."""

STRING_FIELDS = frozenset({
    "title", "description", "notes", "version", "language", "access_conditions", "doi",
    "method", "imprint_publisher", "imprint_isbn", "imprint_place", "journal_title",
    "journal_volume", "journal_issue", "journal_pages", "conference_title",
    "conference_acronym", "conference_dates", "conference_place", "conference_url",
    "conference_session", "conference_session_part", "partof_title", "partof_pages",
    "thesis_university",
})  # fmt: skip
OTHER_FIELDS = frozenset({
    "upload_type", "publication_type", "image_type", "publication_date", "embargo_date",
    "access_right", "license", "creators", "contributors", "keywords", "related_identifiers",
    "communities", "grants", "references", "subjects", "locations", "dates",
    "thesis_supervisors", "prereserve_doi",
})  # fmt: skip
KNOWN_FIELDS = STRING_FIELDS | OTHER_FIELDS
PERSON_FIELDS = frozenset({"name", "affiliation", "orcid", "gnd"})
MISSING = "Missing data for required field."


@cache
def _licenses() -> dict[str, Any]:
    text = resources.files("zenodo_export.sandbox").joinpath("licenses.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def normalise_license(value: Any) -> str:
    """Return the RDM id of a license given as a string or ``{"id": ...}``; ValueError if bad."""
    raw = value.get("id") if isinstance(value, dict) else value
    if not isinstance(raw, str):
        raise ValueError("Invalid license value provided")
    key = raw.strip().lower()
    known = _licenses()
    rdm_id = known["aliases"].get(key, key)
    if rdm_id not in known["licenses"]:
        raise ValueError(f"Invalid license provided: {raw}")
    return str(rdm_id)


def legacy_license(rdm_id: str) -> str:
    """Return the legacy id read back for an RDM license id (``cc0-1.0`` -> ``cc-zero``)."""
    entry = _licenses()["licenses"].get(rdm_id)
    return str(entry["legacy"]) if entry else rdm_id


def license_title(rdm_id: str) -> str:
    """Return a license's title."""
    entry = _licenses()["licenses"].get(rdm_id)
    return str(entry["title"]) if entry else rdm_id


def split_name(name: str) -> dict[str, str]:
    """Split ``Family, Given`` on exactly one comma; otherwise all of it is the family name."""
    parts = name.split(",")
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        return {"family_name": parts[0].strip(), "given_name": parts[1].strip()}
    return {"family_name": name.strip()}


def join_name(person: dict[str, Any]) -> str:
    """Rebuild the legacy ``name`` from family and given names."""
    given = person.get("given_name")
    return f"{person['family_name']}, {given}" if given else str(person["family_name"])


def today() -> str:
    """Return today's date (UTC) in ISO form."""
    return datetime.now(UTC).date().isoformat()


def is_iso_date(value: Any) -> bool:
    """Say whether ``value`` is an ISO ``YYYY-MM-DD`` date."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def load(data: Any) -> dict[str, Any]:
    """Check and normalise metadata sent by a client; raise a 400 listing every bad field."""
    if not isinstance(data, dict):
        raise validation_error([field_error("metadata", "Not a valid mapping type.")])
    errors: list[dict[str, Any]] = []
    stored: dict[str, Any] = {}
    for key, value in data.items():
        if key == "prereserve_doi":
            continue  # read-only: Zenodo derives it from the record id
        if key not in KNOWN_FIELDS:
            errors.append(field_error(f"metadata.{key}", "Unknown field."))
            continue
        stored[key] = _load_field(key, value, errors)
    _apply_defaults(stored, errors)
    if errors:
        raise validation_error(errors)
    return stored


def _load_field(key: str, value: Any, errors: list[dict[str, Any]]) -> Any:
    """Return the stored form of one field, appending to ``errors`` when it is bad."""
    path = f"metadata.{key}"
    choices = {
        "upload_type": UPLOAD_TYPES,
        "publication_type": PUBLICATION_TYPES,
        "image_type": IMAGE_TYPES,
        "access_right": ACCESS_RIGHTS,
    }
    if key in choices and value not in choices[key]:
        errors.append(field_error(path, f"Must be one of: {', '.join(choices[key])}."))
    elif key in ("publication_date", "embargo_date") and not is_iso_date(value):
        errors.append(field_error(path, "Not a valid date."))
    elif key in STRING_FIELDS and not isinstance(value, str):
        errors.append(field_error(path, "Not a valid string."))
    elif key == "license":
        try:
            return normalise_license(value)
        except ValueError as exc:
            errors.append(field_error(path, str(exc)))
    elif key in ("creators", "contributors"):
        return _load_people(path, value, errors)
    elif key == "keywords" and not _is_list_of(value, str):
        errors.append(field_error(path, "Not a valid list of strings."))
    elif key == "related_identifiers":
        return _load_related(path, value, errors)
    elif key == "communities" and not _is_communities(value):
        errors.append(field_error("communities", 'Must be a list of {"identifier": ...} objects.'))
    return value


def _is_list_of(value: Any, kind: type) -> bool:
    return isinstance(value, list) and all(isinstance(v, kind) for v in value)


def _is_communities(value: Any) -> bool:
    return _is_list_of(value, dict) and all(
        set(c) == {"identifier"} and isinstance(c["identifier"], str) for c in value
    )


def _load_people(path: str, value: Any, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not _is_list_of(value, dict):
        errors.append(field_error(path, "Not a valid list."))
        return []
    people = []
    allowed = PERSON_FIELDS | ({"type"} if path.endswith("contributors") else set())
    for index, person in enumerate(value):
        for key in sorted(set(person) - allowed):
            errors.append(field_error(f"{path}.{index}.{key}", "Unknown field name."))
        name = person.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(field_error(f"{path}.{index}.name", MISSING))
            continue
        extra = {k: v for k, v in person.items() if k in allowed and k != "name"}
        people.append(split_name(name) | extra)
    return people


def _load_related(path: str, value: Any, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        errors.append(field_error(path, "Not a valid list."))
        return []
    stored = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            errors.append(field_error(f"{path}.{index}", "Not a valid mapping type."))
            continue
        relation, identifier = item.get("relation"), item.get("identifier")
        if not isinstance(identifier, str) or not identifier.strip():
            errors.append(field_error(f"{path}.{index}.identifier", MISSING))
        if not isinstance(relation, str) or relation.lower() not in RELATION_BY_RDM_ID:
            errors.append(field_error(f"{path}.{index}.relation", "Invalid relation type."))
            continue
        entry = {"identifier": identifier, "relation": relation.lower()}
        entry["scheme"] = detect_scheme(identifier if isinstance(identifier, str) else "")
        if isinstance(item.get("resource_type"), str):
            entry["resource_type"] = item["resource_type"]
        stored.append(entry)
    return stored


def detect_scheme(identifier: str) -> str:
    """Guess an identifier's scheme the way Zenodo does for the common cases."""
    text = identifier.strip().lower()
    if re.match(r"^(https?://(dx\.)?doi\.org/|doi:)?10\.\d{4,9}/\S+$", text):
        return "doi"
    if re.match(r"^(arxiv:)?\d{4}\.\d{4,5}(v\d+)?$", text):
        return "arxiv"
    if text.startswith(("http://", "https://")):
        return "url"
    return "other"


def _apply_defaults(stored: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    """Fill in what Zenodo's deserializer fills in."""
    stored.setdefault("access_right", "open")
    stored.setdefault("publication_date", today())
    stored.setdefault("imprint_publisher", "Zenodo")
    if stored["access_right"] in ("open", "embargoed") and "license" not in stored:
        stored["license"] = "cc0-1.0" if stored.get("upload_type") == "dataset" else "cc-by-4.0"
    if stored["access_right"] == "embargoed" and "embargo_date" not in stored:
        errors.append(field_error("metadata.access_right", "Unknown access type."))


def dump(stored: dict[str, Any], record_id: int, doi_prefix: str) -> dict[str, Any]:
    """Return the legacy JSON of stored metadata, with the always-present ``prereserve_doi``."""
    out = dict(stored)
    if "license" in out:
        out["license"] = legacy_license(out["license"])
    for key in ("creators", "contributors"):
        if key in out:
            out[key] = [_dump_person(p) for p in out[key]]
    if "related_identifiers" in out:
        out["related_identifiers"] = [
            r | {"relation": RELATION_BY_RDM_ID[r["relation"]]} for r in out["related_identifiers"]
        ]
    out["prereserve_doi"] = {"doi": f"{doi_prefix}/zenodo.{record_id}", "recid": record_id}
    return out


def _dump_person(person: dict[str, Any]) -> dict[str, Any]:
    extra = {k: v for k, v in person.items() if k not in ("family_name", "given_name")}
    return {"name": join_name(person)} | extra


def publish_errors(stored: dict[str, Any], *, file_count: int) -> list[dict[str, Any]]:
    """Return the field errors that stop a publish (empty when it may go ahead)."""
    required = ["upload_type", "publication_date", "title", "creators", "description"]
    if stored.get("upload_type") == "publication":
        required.append("publication_type")
    if stored.get("upload_type") == "image":
        required.append("image_type")
    if stored.get("access_right") in ("open", "embargoed"):
        required.append("license")
    if stored.get("access_right") == "restricted":
        required.append("access_conditions")
    errors = [field_error(f"metadata.{k}", MISSING) for k in required if not stored.get(k)]
    if file_count == 0:
        errors.append(
            field_error(
                "files.enabled",
                "Missing uploaded files. To disable files for this record please mark it as "
                "metadata-only.",
            )
        )
    return errors


def new_version_metadata(stored: dict[str, Any]) -> dict[str, Any]:
    """Return the stripped metadata of a new-version draft, as Zenodo answers it today."""
    kept = {k: stored[k] for k in ("access_right", "license", "imprint_publisher") if k in stored}
    return kept | {"title": "", "version": "", "publication_date": today()}

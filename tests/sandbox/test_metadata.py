"""The pure metadata rules, without a server."""

from __future__ import annotations

import pytest

from zenodo_export.sandbox import metadata


def test_license_aliases_map_both_ways() -> None:
    """cc-zero is stored as cc0-1.0 and read back as cc-zero."""
    assert metadata.normalise_license("cc-zero") == "cc0-1.0"
    assert metadata.legacy_license("cc0-1.0") == "cc-zero"


def test_unknown_licenses_raise() -> None:
    """An unknown id raises with Zenodo's message."""
    with pytest.raises(ValueError, match="Invalid license provided: nope"):
        metadata.normalise_license("nope")


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Doe, Jane", {"family_name": "Doe", "given_name": "Jane"}),
        ("Doe,Jane", {"family_name": "Doe", "given_name": "Jane"}),
        ("Doe, Jane, Jr.", {"family_name": "Doe, Jane, Jr."}),
        ("Jane Doe", {"family_name": "Jane Doe"}),
    ],
)
def test_names_split_on_exactly_one_comma(name: str, parts: dict[str, str]) -> None:
    """Only a name with exactly one comma is split into family and given names."""
    assert metadata.split_name(name) == parts


def test_publish_errors_name_what_is_missing() -> None:
    """A complete dataset with a file has no publish errors; without title it has one."""
    stored = metadata.load(
        {"upload_type": "dataset", "title": "T", "description": "D", "creators": [{"name": "A"}]}
    )
    assert metadata.publish_errors(stored, file_count=1) == []
    assert [e["field"] for e in metadata.publish_errors(stored | {"title": ""}, file_count=1)] == [
        "metadata.title"
    ]


def test_new_version_metadata_is_stripped() -> None:
    """A new-version draft keeps access, license and publisher, blanks title and version."""
    stored = metadata.load({"upload_type": "dataset", "title": "T", "creators": [{"name": "A"}]})
    stripped = metadata.new_version_metadata(stored)
    assert set(stripped) == {
        "access_right",
        "license",
        "imprint_publisher",
        "title",
        "version",
        "publication_date",
    }
    assert (stripped["title"], stripped["version"]) == ("", "")

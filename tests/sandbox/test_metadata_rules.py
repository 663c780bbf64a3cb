"""Conformance: metadata rules as Zenodo applies them (licenses, creators, shapes, dates)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.sandbox.helpers import METADATA, create


def _put(api: httpx.Client, metadata: dict[str, Any]) -> httpx.Response:
    dep = create(api)
    return api.put(dep["links"]["self"], json={"metadata": metadata})


def _errors(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["message"] == "A validation error occurred."
    return {e["field"]: e["messages"] for e in body["errors"]}


@pytest.mark.parametrize(
    ("sent", "read_back"),
    [
        ("cc-zero", "cc-zero"),
        ("CC0-1.0", "cc-zero"),
        ({"id": "cc-by-4.0"}, "cc-by-4.0"),
        (" CC-BY ", "cc-by-4.0"),
        ("MIT", "mit-license"),
        ("apache2.0", "apache-2.0"),
    ],
)
def test_licenses_go_through_their_aliases(api: httpx.Client, sent: Any, read_back: str) -> None:
    """A license is normalised through its aliases and read back in its legacy spelling."""
    response = _put(api, METADATA | {"license": sent})
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["license"] == read_back


def test_an_unknown_license_is_400_on_metadata_license(api: httpx.Client) -> None:
    """An unknown license id gives 400 on metadata.license naming it."""
    errors = _errors(_put(api, METADATA | {"license": "cc-by-9999"}))
    assert errors == {"metadata.license": ["Invalid license provided: cc-by-9999"]}


def test_a_license_that_is_not_a_string_is_400(api: httpx.Client) -> None:
    """A license given as a number or a list is an invalid value."""
    for value in (123, ["cc-by-4.0"]):
        assert _errors(_put(api, METADATA | {"license": value})) == {
            "metadata.license": ["Invalid license value provided"]
        }


def test_the_default_license_depends_on_the_upload_type(api: httpx.Client) -> None:
    """Without a license, open datasets get CC0 and other types CC-BY-4.0."""
    bare = {k: v for k, v in METADATA.items() if k != "license"}
    assert _put(api, bare).json()["metadata"]["license"] == "cc-zero"
    assert (
        _put(api, bare | {"upload_type": "software"}).json()["metadata"]["license"] == "cc-by-4.0"
    )


def test_creators_are_split_on_exactly_one_comma(api: httpx.Client) -> None:
    """'Family,Given' is split and rebuilt as 'Family, Given'; two commas stay as they are."""
    creators = [{"name": "Doe,Jane"}, {"name": "A, B, C"}, {"name": "Plato"}]
    names = [
        c["name"]
        for c in _put(api, METADATA | {"creators": creators}).json()["metadata"]["creators"]
    ]
    assert names == ["Doe, Jane", "A, B, C", "Plato"]


def test_an_unknown_creator_field_is_400(api: httpx.Client) -> None:
    """A creator with a field Zenodo does not know is rejected on that field."""
    errors = _errors(_put(api, METADATA | {"creators": [{"name": "Doe, J", "type": "Personal"}]}))
    assert errors == {"metadata.creators.0.type": ["Unknown field name."]}


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("10.1/x", "metadata.related_identifiers"),
        (["10.1/x"], "metadata.related_identifiers.0"),
        ([{"identifier": "10.1/x"}], "metadata.related_identifiers.0.relation"),
        ([{"identifier": "10.1/x", "relation": 5}], "metadata.related_identifiers.0.relation"),
        (
            [{"identifier": "10.1/x", "relation": "isFriendOf"}],
            "metadata.related_identifiers.0.relation",
        ),
    ],
)
def test_malformed_related_identifiers_are_400(api: httpx.Client, value: Any, field: str) -> None:
    """related_identifiers must be a list of objects with a known string relation."""
    assert list(_errors(_put(api, METADATA | {"related_identifiers": value}))) == [field]


def test_related_identifier_relations_are_normalised(api: httpx.Client) -> None:
    """A relation in any case is stored and read back in the legacy spelling, with a scheme."""
    related = [{"identifier": "10.3789/isqv25no2.2013.04", "relation": "ISSUPPLEMENTTO"}]
    stored = _put(api, METADATA | {"related_identifiers": related}).json()["metadata"]
    assert stored["related_identifiers"] == [
        {"identifier": "10.3789/isqv25no2.2013.04", "relation": "isSupplementTo", "scheme": "doi"}
    ]


def test_communities_must_be_a_list_of_identifier_objects(api: httpx.Client) -> None:
    """communities as a string is 400 on 'communities'; a list of {identifier} is kept."""
    assert list(_errors(_put(api, METADATA | {"communities": "zenodo"}))) == ["communities"]
    ok = _put(api, METADATA | {"communities": [{"identifier": "zenodo"}]})
    assert ok.json()["metadata"]["communities"] == [{"identifier": "zenodo"}]


@pytest.mark.parametrize("value", ["2024-13-01", "01/02/2024", "2024-1-2", 20240101])
def test_dates_must_be_iso(api: httpx.Client, value: Any) -> None:
    """publication_date must be an ISO YYYY-MM-DD date."""
    assert list(_errors(_put(api, METADATA | {"publication_date": value}))) == [
        "metadata.publication_date"
    ]


def test_drafts_get_zenodos_defaults(api: httpx.Client) -> None:
    """A draft gets today's publication_date, publisher Zenodo and open access."""
    meta = create(api)["metadata"]
    today = datetime.now(UTC).date().isoformat()
    assert (meta["publication_date"], meta["imprint_publisher"], meta["access_right"]) == (
        today, "Zenodo", "open",
    )  # fmt: skip


def test_an_unknown_metadata_field_is_400(api: httpx.Client) -> None:
    """A metadata key Zenodo does not know is rejected on that key."""
    assert _errors(_put(api, METADATA | {"colour": "blue"})) == {
        "metadata.colour": ["Unknown field."]
    }


def test_embargoed_without_an_embargo_date_is_400(api: httpx.Client) -> None:
    """access_right embargoed needs an embargo_date ('Unknown access type.')."""
    errors = _errors(_put(api, METADATA | {"access_right": "embargoed"}))
    assert errors == {"metadata.access_right": ["Unknown access type."]}


def test_an_invalid_upload_type_is_400(api: httpx.Client) -> None:
    """upload_type must be one of Zenodo's types."""
    assert list(_errors(_put(api, METADATA | {"upload_type": "spreadsheet"}))) == [
        "metadata.upload_type"
    ]


def test_metadata_read_back_can_be_sent_again(api: httpx.Client) -> None:
    """The metadata a GET returns (prereserve_doi included) is accepted by a PUT."""
    dep = create(api, METADATA)
    again = api.put(dep["links"]["self"], json={"metadata": dep["metadata"]})
    assert again.status_code == 200
    assert again.json()["metadata"] == dep["metadata"]

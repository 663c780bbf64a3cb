"""Conformance: the records API (record, file content, versions) and its public access."""

from __future__ import annotations

import httpx

from tests.sandbox.helpers import METADATA, create, publishable, published, upload
from zenodo_export.sandbox import RunningSandbox


def _second_version(api: httpx.Client, first: dict) -> dict:  # type: ignore[type-arg]
    new = api.post(first["links"]["newversion"]).json()
    api.put(new["links"]["self"], json={"metadata": METADATA | {"version": "2"}})
    upload(api, new, "data.csv", b"4, 5, 6")
    return dict(api.post(new["links"]["publish"]).json())


def test_a_record_is_public_and_shows_its_files(sandbox: RunningSandbox, api: httpx.Client) -> None:
    """GET /api/records/:id needs no token and lists files as key/size/md5:."""
    dep = published(api)
    response = httpx.get(f"{sandbox.api_url}records/{dep['id']}")
    assert response.status_code == 200
    record = response.json()
    assert (record["id"], record["conceptrecid"], record["doi"]) == (
        dep["id"],
        dep["conceptrecid"],
        dep["doi"],
    )
    assert record["metadata"]["title"] == METADATA["title"]
    assert [(f["key"], f["size"]) for f in record["files"]] == [("data.csv", 7)]


def test_a_record_file_downloads_its_content(sandbox: RunningSandbox, api: httpx.Client) -> None:
    """The record file's links.self streams the file's bytes."""
    dep = published(api, b"the content")
    record = api.get(dep["links"]["record"]).json()
    response = httpx.get(record["files"][0]["links"]["self"])
    assert (response.status_code, response.content) == (200, b"the content")


def test_an_unpublished_record_is_404(api: httpx.Client) -> None:
    """A draft has no record yet."""
    dep = publishable(api)
    assert api.get(f"records/{dep['id']}").status_code == 404
    assert api.get("records/987654").status_code == 404


def test_versions_list_newest_first_and_latest_redirects(api: httpx.Client) -> None:
    """/versions lists every published version (hits.hits, total); /versions/latest redirects."""
    first = published(api)
    second = _second_version(api, first)
    versions = api.get(f"records/{first['id']}/versions").json()
    assert versions["hits"]["total"] == 2
    assert [h["id"] for h in versions["hits"]["hits"]] == [second["id"], first["id"]]
    latest = api.get(f"records/{first['id']}/versions/latest")
    assert latest.status_code == 302
    assert (
        api.get(f"records/{first['id']}/versions/latest", follow_redirects=True).json()["id"]
        == second["id"]
    )


def test_record_links_latest_points_at_the_versions_latest(api: httpx.Client) -> None:
    """A record's links.latest is .../records/:id/versions/latest and resolves to the newest."""
    first = published(api)
    second = _second_version(api, first)
    record = api.get(f"records/{first['id']}").json()
    assert record["links"]["latest"].endswith(f"/records/{first['id']}/versions/latest")
    assert api.get(record["links"]["latest"], follow_redirects=True).json()["id"] == second["id"]
    relation = record["metadata"]["relations"]["version"][0]
    assert (relation["index"], relation["is_last"]) == (0, False)


def test_a_concept_id_redirects_to_the_latest_version(api: httpx.Client) -> None:
    """GET /api/records/<conceptrecid> redirects to the latest published version."""
    dep = published(api)
    response = api.get(f"records/{dep['conceptrecid']}", follow_redirects=True)
    assert response.json()["id"] == dep["id"]


def test_record_license_is_the_normalised_id(api: httpx.Client) -> None:
    """The record shows the normalised license id (cc-zero is cc0-1.0)."""
    dep = published(api)
    assert api.get(dep["links"]["record"]).json()["metadata"]["license"] == {"id": "cc0-1.0"}


def test_draft_only_depositions_have_no_record_links(api: httpx.Client) -> None:
    """A draft's links have no record, record_html or latest."""
    links = create(api)["links"]
    assert not {"record", "record_html", "latest", "latest_html"} & set(links)

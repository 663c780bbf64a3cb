"""Conformance: publish, edit, discard and newversion, with states, DOIs and links."""

from __future__ import annotations

import httpx

from tests.sandbox.helpers import (
    METADATA,
    all_depositions,
    create,
    md5,
    publishable,
    published,
    upload,
)
from zenodo_export.sandbox import RunningSandbox


def test_publish_answers_202_with_the_published_deposition(api: httpx.Client) -> None:
    """Publish gives 202, state done, DOIs derived from the ids and the record links."""
    dep = publishable(api)
    response = api.post(dep["links"]["publish"])
    assert response.status_code == 202
    body = response.json()
    assert (body["state"], body["submitted"]) == ("done", True)
    assert body["doi"] == f"10.5281/zenodo.{dep['id']}"
    assert body["conceptdoi"] == f"10.5281/zenodo.{dep['conceptrecid']}"
    assert body["conceptrecid"] == dep["conceptrecid"]
    links = body["links"]
    assert {"record", "record_html", "latest", "latest_html", "doi", "parent_doi"} <= set(links)
    assert "record_url" not in links
    assert links["latest_draft"] == links["self"]


def test_publish_validates_with_zenodos_error_body(api: httpx.Client) -> None:
    """Publishing an empty draft gives 400 listing every missing field as messages lists."""
    dep = create(api)
    response = api.post(dep["links"]["publish"])
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["message"]) == (400, "A validation error occurred.")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {
        "metadata.upload_type", "metadata.title", "metadata.creators",
        "metadata.description", "files.enabled",
    }  # fmt: skip
    assert all(isinstance(e["messages"], list) and e["messages"] for e in body["errors"])
    assert api.get(dep["links"]["self"]).json()["state"] == "unsubmitted"


def test_publish_requires_the_subtype_of_publications_and_images(api: httpx.Client) -> None:
    """upload_type publication needs publication_type; image needs image_type."""
    for upload_type, subtype in (("publication", "publication_type"), ("image", "image_type")):
        dep = create(api, METADATA | {"upload_type": upload_type})
        upload(api, dep, "a.txt", b"a")
        errors = api.post(dep["links"]["publish"]).json()["errors"]
        assert [e["field"] for e in errors] == [f"metadata.{subtype}"]


def test_publish_of_restricted_access_needs_access_conditions(api: httpx.Client) -> None:
    """access_right restricted needs access_conditions (and no license)."""
    dep = create(
        api, {k: v for k, v in METADATA.items() if k != "license"} | {"access_right": "restricted"}
    )
    upload(api, dep, "a.txt", b"a")
    errors = api.post(dep["links"]["publish"]).json()["errors"]
    assert [e["field"] for e in errors] == ["metadata.access_conditions"]


def test_publishing_twice_is_404(api: httpx.Client, sandbox: RunningSandbox) -> None:
    """A second publish gives 404 and publishes nothing more."""
    dep = published(api)
    assert api.post(dep["links"]["publish"]).status_code == 404
    assert [d["state"] for d in all_depositions(sandbox)] == ["done"]


def test_edit_reopens_metadata_but_not_files(api: httpx.Client) -> None:
    """Edit gives 201 and inprogress; metadata can change, the bucket stays locked."""
    dep = published(api)
    response = api.post(dep["links"]["edit"])
    assert response.status_code == 201
    assert response.json()["state"] == "inprogress"
    changed = api.put(dep["links"]["self"], json={"metadata": METADATA | {"title": "Fixed title"}})
    assert changed.status_code == 200
    assert upload(api, dep, "more.csv", b"x").status_code == 403
    republished = api.post(dep["links"]["publish"])
    assert republished.status_code == 202
    assert republished.json()["state"] == "done"
    assert api.get(dep["links"]["record"]).json()["metadata"]["title"] == "Fixed title"


def test_the_record_keeps_the_published_metadata_during_an_edit(api: httpx.Client) -> None:
    """While an edit is in progress, the record still shows what was published."""
    dep = published(api)
    api.post(dep["links"]["edit"])
    api.put(dep["links"]["self"], json={"metadata": METADATA | {"title": "Draft title"}})
    assert api.get(dep["links"]["record"]).json()["metadata"]["title"] == METADATA["title"]


def test_discard_reverts_an_edit(api: httpx.Client) -> None:
    """Discard on an edit answers 204 without body and restores the published metadata."""
    dep = published(api)
    api.post(dep["links"]["edit"])
    api.put(dep["links"]["self"], json={"metadata": METADATA | {"title": "Unwanted"}})
    response = api.post(dep["links"]["discard"])
    assert (response.status_code, response.content) == (204, b"")
    after = api.get(dep["links"]["self"]).json()
    assert (after["state"], after["title"]) == ("done", METADATA["title"])


def test_discard_of_a_never_published_deposition_deletes_it(api: httpx.Client) -> None:
    """Discard on a draft that was never published deletes the whole deposition."""
    dep = publishable(api)
    assert api.post(dep["links"]["discard"]).status_code == 204
    assert api.get(dep["links"]["self"]).status_code == 404


def test_discard_without_a_draft_is_404(api: httpx.Client) -> None:
    """Discard on a published deposition that is not being edited gives 404."""
    dep = published(api)
    assert api.post(dep["links"]["discard"]).status_code == 404


def test_newversion_answers_the_new_draft_with_the_files_carried_over(api: httpx.Client) -> None:
    """newversion gives 201 with the new draft: new id, same concept, old files, bare metadata."""
    old = published(api, b"version one")
    response = api.post(old["links"]["newversion"])
    assert response.status_code == 201
    new = response.json()
    assert new["id"] != old["id"] and new["conceptrecid"] == old["conceptrecid"]
    assert (new["state"], new["submitted"]) == ("unsubmitted", False)
    assert [(f["filename"], f["checksum"]) for f in new["files"]] == [
        ("data.csv", md5(b"version one"))
    ]
    meta = new["metadata"]
    assert (meta["title"], meta["version"]) == ("", "")
    assert "creators" not in meta and "description" not in meta
    assert meta["license"] == "cc-zero"
    assert meta["prereserve_doi"]["doi"] == f"10.5281/zenodo.{new['id']}"
    assert new["links"]["latest_draft"] == new["links"]["self"]


def test_a_new_version_needs_full_metadata_and_then_publishes(api: httpx.Client) -> None:
    """The new draft publishes after a full PUT; the old version's latest link follows."""
    old = published(api)
    new = api.post(old["links"]["newversion"]).json()
    assert api.post(new["links"]["publish"]).status_code == 400
    api.put(new["links"]["self"], json={"metadata": METADATA | {"version": "2"}})
    upload(api, new, "data.csv", b"version two")
    done = api.post(new["links"]["publish"]).json()
    assert done["doi"] == f"10.5281/zenodo.{new['id']}"
    assert done["conceptdoi"] == old["conceptdoi"]
    old_now = api.get(old["links"]["self"]).json()
    assert old_now["links"]["latest"].endswith(f"/records/{new['id']}")
    assert (
        api.get(old["links"]["record"]).json()["files"][0]["checksum"] == f"md5:{md5(b'1, 2, 3')}"
    )


def test_a_second_newversion_while_the_draft_holds_files_is_400(api: httpx.Client) -> None:
    """Calling newversion again while its draft holds files gives 400 on files.enabled."""
    old = published(api)
    api.post(old["links"]["newversion"])
    response = api.post(old["links"]["newversion"])
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "message": "A validation error occurred.",
        "errors": [{"field": "files.enabled", "messages": ["Please remove all files first."]}],
    }


def test_a_second_newversion_on_an_empty_draft_returns_that_draft(api: httpx.Client) -> None:
    """Once its files are deleted, newversion returns the same open draft with files re-imported."""
    old = published(api)
    draft = api.post(old["links"]["newversion"]).json()
    for item in api.get(draft["links"]["files"]).json():
        api.delete(item["links"]["self"])
    again = api.post(old["links"]["newversion"])
    assert again.status_code == 201
    assert again.json()["id"] == draft["id"]
    assert [f["filename"] for f in again.json()["files"]] == ["data.csv"]


def test_newversion_needs_the_latest_published_version(api: httpx.Client) -> None:
    """newversion on an older version is 400; on a never-published draft it is 404."""
    old = published(api)
    new = api.post(old["links"]["newversion"]).json()
    api.put(new["links"]["self"], json={"metadata": METADATA})
    api.post(new["links"]["publish"])
    assert api.post(old["links"]["newversion"]).status_code == 400
    assert api.post(create(api)["links"]["newversion"]).status_code == 404


def test_html_links_resolve_to_pages(api: httpx.Client) -> None:
    """links.html of a draft and record_html of a record are pages the sandbox serves."""
    dep = published(api)
    for url in (dep["links"]["html"], dep["links"]["record_html"], dep["links"]["badge"]):
        response = api.get(url)
        assert response.status_code == 200, url
    assert METADATA["title"] in api.get(dep["links"]["record_html"]).text

"""Conformance: the legacy deposit API (create, get, update, delete, list) over real HTTP."""

from __future__ import annotations

import time

import httpx

from tests.fixtures.sandbox import SandboxFactory
from tests.sandbox.helpers import METADATA, all_depositions, client, create, publishable, published
from zenodo_export.sandbox import RunningSandbox

DEPOSITION_KEYS = {
    "id", "record_id", "conceptrecid", "created", "modified", "owner", "title", "state",
    "submitted", "metadata", "files", "links",
}  # fmt: skip
DRAFT_LINKS = {
    "self", "html", "badge", "conceptbadge", "files", "bucket", "latest_draft",
    "latest_draft_html", "publish", "edit", "discard", "newversion",
}  # fmt: skip


def test_create_answers_201_with_todays_deposition_shape(api: httpx.Client) -> None:
    """An empty create gives 201 and a draft with today's keys, links and a prereserved DOI."""
    response = api.post("deposit/depositions", json={})
    assert response.status_code == 201
    dep = response.json()
    assert set(dep) == DEPOSITION_KEYS
    assert dep["record_id"] == dep["id"]
    assert isinstance(dep["conceptrecid"], str) and dep["conceptrecid"] != str(dep["id"])
    assert (dep["state"], dep["submitted"], dep["title"], dep["files"]) == (
        "unsubmitted",
        False,
        "",
        [],
    )
    assert dep["metadata"]["prereserve_doi"] == {
        "doi": f"10.5281/zenodo.{dep['id']}",
        "recid": dep["id"],
    }
    assert set(dep["links"]) == DRAFT_LINKS
    assert dep["links"]["bucket"].startswith(f"{api.base_url}files/")
    assert "record_url" not in dep["links"] and "doi" not in dep


def test_create_keeps_the_metadata_sent(api: httpx.Client) -> None:
    """Metadata given at creation is stored, and the title is mirrored at the top level."""
    dep = create(api, METADATA)
    assert dep["title"] == METADATA["title"]
    assert dep["metadata"]["description"] == METADATA["description"]


def test_create_with_an_unknown_top_level_key_is_400_and_creates_nothing(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    """An unknown top-level key gives 400 with its field, and no deposition is made."""
    response = api.post("deposit/depositions", json={"metadata": {}, "title": "x"})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "title", "messages": ["Unknown field."]}]
    assert all_depositions(sandbox) == []


def test_create_with_a_body_that_is_not_json_is_415(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    """A body not declared as JSON gives 415 and creates nothing."""
    response = api.post(
        "deposit/depositions", content=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json()["status"] == 415
    assert all_depositions(sandbox) == []


def test_get_returns_the_deposition_and_404_for_unknown_ids(api: httpx.Client) -> None:
    """GET returns the stored deposition; an unknown id gives Zenodo's 404 body."""
    dep = create(api, METADATA)
    assert api.get(dep["links"]["self"]).json()["metadata"]["title"] == METADATA["title"]
    missing = api.get("deposit/depositions/999999")
    assert missing.status_code == 404
    assert missing.json() == {"status": 404, "message": "The persistent identifier does not exist."}


def test_put_replaces_the_metadata(api: httpx.Client) -> None:
    """PUT replaces the whole metadata: a field left out is gone."""
    dep = create(api, METADATA)
    response = api.put(dep["links"]["self"], json={"metadata": {"title": "Only a title"}})
    assert response.status_code == 200
    assert response.json()["metadata"]["title"] == "Only a title"
    assert "description" not in api.get(dep["links"]["self"]).json()["metadata"]


def test_put_accepts_only_metadata_at_the_top_level(api: httpx.Client) -> None:
    """Sending a whole deposition back fails with 'Unknown field' and changes nothing."""
    dep = create(api, METADATA)
    changed = dict(dep, metadata=dict(dep["metadata"], title="Changed"))
    response = api.put(dep["links"]["self"], json=changed)
    assert response.status_code == 400
    assert {"field": "links", "messages": ["Unknown field."]} in response.json()["errors"]
    assert api.get(dep["links"]["self"]).json()["title"] == METADATA["title"]


def test_put_on_a_published_deposition_not_being_edited_is_404(api: httpx.Client) -> None:
    """A published deposition's metadata cannot be PUT without the edit action."""
    dep = published(api)
    assert api.put(dep["links"]["self"], json={"metadata": METADATA}).status_code == 404


def test_delete_answers_204_then_404(api: httpx.Client) -> None:
    """Deleting a draft gives 204; deleting it again gives 404, and it is gone."""
    dep = create(api)
    assert api.delete(dep["links"]["self"]).status_code == 204
    assert api.delete(dep["links"]["self"]).status_code == 404
    assert api.get(dep["links"]["self"]).status_code == 404


def test_delete_of_a_published_deposition_is_404(api: httpx.Client) -> None:
    """A published deposition cannot be deleted (404) and stays."""
    dep = published(api)
    assert api.delete(dep["links"]["self"]).status_code == 404
    assert api.get(dep["links"]["self"]).json()["state"] == "done"


def test_list_is_newest_first_without_bucket_links(api: httpx.Client) -> None:
    """The list shows the caller's depositions newest first, items without links.bucket."""
    ids = [create(api)["id"] for _ in range(3)]
    listed = api.get("deposit/depositions").json()
    assert [d["id"] for d in listed] == ids[::-1]
    assert all("bucket" not in d["links"] for d in listed)


def test_list_filters_by_status(api: httpx.Client) -> None:
    """status=draft shows unpublished depositions only, status=published the others."""
    draft = create(api)
    done = published(api)
    drafts = api.get("deposit/depositions", params={"status": "draft"}).json()
    public = api.get("deposit/depositions", params={"status": "published"}).json()
    assert [d["id"] for d in drafts] == [draft["id"]]
    assert [d["id"] for d in public] == [done["id"]]


def test_list_q_matches_title_and_conceptrecid(api: httpx.Client) -> None:
    """q matches a title substring (any case) or conceptrecid:N."""
    wanted = create(api, {"title": "Monthly ALM export"})
    create(api, {"title": "Something else"})
    by_title = api.get("deposit/depositions", params={"q": "alm EXPORT"}).json()
    by_concept = api.get(
        "deposit/depositions", params={"q": f"conceptrecid:{wanted['conceptrecid']}"}
    )
    assert [d["id"] for d in by_title] == [wanted["id"]]
    assert [d["id"] for d in by_concept.json()] == [wanted["id"]]


def test_list_pages(api: httpx.Client) -> None:
    """page and size cut the newest-first list; size above 100 is refused."""
    ids = [create(api)["id"] for _ in range(5)][::-1]
    page2 = api.get("deposit/depositions", params={"page": 2, "size": 2}).json()
    assert [d["id"] for d in page2] == ids[2:4]
    assert api.get("deposit/depositions", params={"size": 101}).status_code == 400


def test_list_shows_only_the_callers_depositions(sandbox_factory: SandboxFactory) -> None:
    """Depositions belong to their token's user: another token does not list them."""
    sandbox = sandbox_factory(tokens=["alice-token", "bob-token"])
    with client(sandbox, "alice-token") as alice, client(sandbox, "bob-token") as bob:
        mine = create(alice)
        assert [d["id"] for d in alice.get("deposit/depositions").json()] == [mine["id"]]
        assert bob.get("deposit/depositions").json() == []


def test_a_new_deposition_shows_in_the_list_only_after_the_index_lag(
    sandbox_factory: SandboxFactory,
) -> None:
    """With a list lag, a new deposition is readable at once but listed only after the lag."""
    sandbox = sandbox_factory(list_lag_seconds=1.0)
    with client(sandbox) as api:
        dep = create(api)
        assert api.get(dep["links"]["self"]).status_code == 200
        assert api.get("deposit/depositions").json() == []
        time.sleep(1.1)
        assert [d["id"] for d in api.get("deposit/depositions").json()] == [dep["id"]]


def test_ids_keep_counting_and_dois_follow_them(api: httpx.Client) -> None:
    """Each deposition gets a new id, and its prereserved DOI is derived from it."""
    first, second = create(api), create(api)
    assert second["id"] > first["id"]
    assert second["metadata"]["prereserve_doi"]["doi"] == f"10.5281/zenodo.{second['id']}"


def test_publishable_helper_holds_one_file(api: httpx.Client) -> None:
    """A deposition with a bucket upload lists that file in its files."""
    dep = publishable(api)
    assert [f["filename"] for f in api.get(dep["links"]["self"]).json()["files"]] == ["data.csv"]

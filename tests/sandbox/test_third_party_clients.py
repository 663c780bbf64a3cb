"""Popular Zenodo clients from PyPI run their flows unchanged against the sandbox.

Each is pointed at the sandbox through what it offers for that, without patching its code:
zenodo-client (cthoyt) through the URL attributes its constructor sets (``base``,
``api_base``, ``depositions_base``); openscm-zenodo through ``ZenodoInteractor``'s
``zenodo_domain`` field; pyzenodo3 through ``upload``'s ``base_url`` argument.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from openscm_zenodo.zenodo import ZenodoInteractor, create_new_version, get_reserved_doi
from pyzenodo3 import upload as pyzenodo3_upload
from zenodo_client import Creator, Metadata, Zenodo

from tests.fixtures.sandbox import SandboxFactory
from tests.sandbox.helpers import all_depositions, md5
from zenodo_export.sandbox import RunningSandbox

OPENSCM_METADATA = {
    "metadata": {
        "upload_type": "dataset",
        "title": "ALM export, second version",
        "description": "Second month.",
        "creators": [{"name": "Doe, Jane"}],
        "version": "2",
        "license": "cc-by-4.0",
    }
}


@pytest.fixture(autouse=True)
def _pystow_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep zenodo-client's pystow config and downloads inside the test's temp dir."""
    monkeypatch.setenv("PYSTOW_HOME", str(tmp_path / "pystow"))
    monkeypatch.setenv("PYSTOW_CONFIG_HOME", str(tmp_path / "pystow-config"))


def zenodo_client_for(sandbox: RunningSandbox) -> Zenodo:
    """Return a zenodo-client ``Zenodo`` whose URL attributes name the sandbox."""
    client = Zenodo(access_token=sandbox.token)
    client.base = sandbox.base_url
    client.api_base = f"{sandbox.base_url}/api"
    client.depositions_base = f"{client.api_base}/deposit/depositions"
    return client


def _publish_with_zenodo_client(
    sandbox: RunningSandbox, path: Path, content: bytes
) -> dict[str, Any]:
    """Write ``content`` to ``path`` and publish it with zenodo-client's create()."""
    path.write_bytes(content)
    metadata = Metadata(
        title="ALM monthly export",
        upload_type="dataset",
        description="All events of the month.",
        creators=[Creator(name="Doe, Jane", affiliation="PLOS")],
    )
    response = zenodo_client_for(sandbox).create(metadata, [path])
    assert response.status_code == 202, response.text
    return dict(response.json())


def test_zenodo_client_creates_uploads_and_publishes(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """zenodo-client's create() (create -> bucket upload -> publish) completes unchanged."""
    path = tmp_path / "events.csv"
    published = _publish_with_zenodo_client(sandbox, path, b"doi,events\n10.1/x,3\n")
    assert published["state"] == "done"
    assert published["metadata"]["license"] == "cc-zero"
    assert [(f["filename"], f["checksum"]) for f in published["files"]] == [
        ("events.csv", md5(path.read_bytes()))
    ]
    downloaded = zenodo_client_for(sandbox).download(published["id"], "events.csv")
    assert downloaded.read_bytes() == path.read_bytes()


def test_zenodo_client_update_meets_the_stripped_new_version_draft(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """zenodo-client's update() fails at publish, as on Zenodo today: the draft lacks a title."""
    path = tmp_path / "events.csv"
    published = _publish_with_zenodo_client(sandbox, path, b"v1")
    path.write_bytes(b"v2")
    with pytest.raises(requests.HTTPError) as caught:
        zenodo_client_for(sandbox).update(str(published["id"]), [path])
    assert caught.value.response is not None
    fields = {e["field"] for e in caught.value.response.json()["errors"]}
    assert "metadata.title" in fields


def test_openscm_zenodo_publishes_a_new_version(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """openscm-zenodo's create_new_version (newversion, metadata, upload, publish) completes."""
    path = tmp_path / "events.csv"
    first = _publish_with_zenodo_client(sandbox, path, b"version one")
    path.write_bytes(b"version two, longer")
    interactor = ZenodoInteractor(token=sandbox.token, zenodo_domain=sandbox.base_url)
    new_id = create_new_version(
        any_deposition_id=str(first["id"]),
        zenodo_interactor=interactor,
        metadata=OPENSCM_METADATA,
        publish=True,
        files_to_upload=[path],
        n_threads=1,
    )
    assert interactor.get_latest_deposition_id(str(first["id"])) == str(new_id)
    record = interactor.get_record(str(new_id)).json()
    assert record["conceptrecid"] == first["conceptrecid"]
    assert [(f["key"], f["checksum"]) for f in record["files"]] == [
        ("events.csv", f"md5:{md5(b'version two, longer')}")
    ]
    assert get_reserved_doi(interactor.get_deposition(str(new_id))) == f"10.5281/zenodo.{new_id}"


def test_openscm_zenodo_reuses_an_open_draft(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """openscm-zenodo turns the 'Please remove all files first.' 400 into finding the open draft."""
    path = tmp_path / "events.csv"
    first = _publish_with_zenodo_client(sandbox, path, b"one")
    interactor = ZenodoInteractor(token=sandbox.token, zenodo_domain=sandbox.base_url)
    draft_id = interactor.create_new_version_from_latest(str(first["id"])).json()["id"]
    assert int(interactor.get_draft_deposition_id(str(first["id"]))) == draft_id


# pyzenodo3 passes ``datafn.open("rb")`` to requests and never closes it: its ResourceWarning
# is pyzenodo3's own, not the sandbox's.
@pytest.mark.filterwarnings("ignore:Exception ignored in:pytest.PytestUnraisableExceptionWarning")
def test_pyzenodo3_creates_and_uploads_the_old_way(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """pyzenodo3's upload() (token check -> create -> multipart upload) completes unchanged."""
    sandbox = sandbox_factory(tokens=["pyzenodo3-token-long-enough"])
    path = tmp_path / "events table.csv"
    content = b"a,b\n"
    path.write_bytes(content)
    pyzenodo3_upload.upload(
        tmp_path / "meta.json", path, sandbox.token, base_url=sandbox.api_url.rstrip("/")
    )
    [row] = all_depositions(sandbox)
    assert row["files"] == [
        {"key": "events_table.csv", "size": 4, "checksum": f"md5:{md5(content)}"}
    ]

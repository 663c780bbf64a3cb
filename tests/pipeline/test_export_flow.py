"""The seed's flow end to end against the real sandbox: create, queue, upload, publish."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pipeline.conftest import all_depositions, queue, run_burst, seed_attributes
from zenodo_export import DataExportJob
from zenodo_export.errors import InvalidExport
from zenodo_export.jobs import list_jobs
from zenodo_export.settings import Settings
from zenodo_export.store import (
    Store,
    ZenodoDataExport,
    count_exports,
    get_export,
)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_seed_example_publishes_one_record_with_every_file(
    store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """The seed's example, in Python: create, queue, and a worker publishes one record."""
    stats, readme = make_file("alm_stats.csv", size=5000), make_file("README.txt", "hello")
    with store.transaction() as session:
        data_export = ZenodoDataExport.create(session, **seed_attributes([stats, readme]))
        DataExportJob.perform_later(session, id=data_export.id)
        export_id = data_export.id

    assert all_depositions(sandbox) == []
    tally = run_burst(store, settings)

    assert tally.counts == {"done": 1}
    with store.transaction() as session:
        export = get_export(session, export_id)
        assert export.state == "done"
        assert export.failed_at is None and export.finished_exporting_at is not None
        url, doi, record_id = export.url, export.doi, export.record_id
    assert url is not None and url.startswith(sandbox.base_url)
    assert httpx.get(url).status_code == 200
    assert doi == f"10.5281/zenodo.{record_id}"
    record = httpx.get(f"{sandbox.api_url}records/{record_id}").json()
    files = {item["key"]: item["checksum"] for item in record["files"]}
    assert files == {"alm_stats.csv": f"md5:{md5(stats)}", "README.txt": f"md5:{md5(readme)}"}
    assert len(all_depositions(sandbox)) == 1


def test_published_metadata_follows_lagottos_mapping(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """Upload type dataset, open access, cc-zero, creators as names, keywords, code link."""
    export_id = queue(sqlite_store, [make_file("a.csv")])
    run_burst(sqlite_store, settings)
    with sqlite_store.transaction() as session:
        record_id = get_export(session, export_id).record_id
    deposition = httpx.get(
        f"{sandbox.api_url}deposit/depositions/{record_id}",
        headers={"Authorization": f"Bearer {settings.zenodo_token.get_secret_value()}"},
    ).json()
    metadata = deposition["metadata"]
    assert metadata["upload_type"] == "dataset"
    assert metadata["access_right"] == "open"
    assert metadata["license"] == "cc-zero"
    assert metadata["title"] == "Cumulative PLOS ALM Report - October 2026"
    assert metadata["publication_date"] == "2026-10-10"
    assert [c["name"] for c in metadata["creators"]] == ["Lin, Jennifer"]
    assert metadata["keywords"] == ["alm", "article-level metrics"]
    assert {"identifier": "https://github.com/lagotto/lagotto", "relation": "isSupplementTo"} in [
        {k: r[k] for k in ("identifier", "relation")} for r in metadata["related_identifiers"]
    ]


def test_creating_an_export_uploads_nothing(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """Creating the record without queueing its job leaves it pending and Zenodo untouched."""
    with sqlite_store.transaction() as session:
        export_id = ZenodoDataExport.create(session, **seed_attributes([make_file("a.csv")])).id
    assert run_burst(sqlite_store, settings).total == 0
    with sqlite_store.transaction() as session:
        assert get_export(session, export_id).state == "pending"
    assert all_depositions(sandbox) == []


@pytest.mark.parametrize(
    "field",
    [
        "name",
        "files",
        "publication_date",
        "title",
        "description",
        "creators",
        "keywords",
        "code_repository_url",
    ],
)
def test_every_seed_attribute_is_required(sqlite_store: Store, make_file: Any, field: str) -> None:
    """A missing or empty seed attribute is refused, naming the field, and nothing is stored."""
    for bad in (None, ""):
        attributes = seed_attributes([make_file("a.csv")])
        if bad is None:
            del attributes[field]
        else:
            attributes[field] = [] if field in ("files", "creators", "keywords") else bad
        with pytest.raises(InvalidExport) as caught, sqlite_store.transaction() as session:
            ZenodoDataExport.create(session, **attributes)
        assert caught.value.field == field
    with sqlite_store.transaction() as session:
        assert count_exports(session) == 0


def test_a_finished_export_is_never_uploaded_again(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """Queueing a done export again does nothing: no new deposition, same URL."""
    export_id = queue(sqlite_store, [make_file("a.csv")])
    run_burst(sqlite_store, settings)
    with sqlite_store.transaction() as session:
        url = get_export(session, export_id).url
        DataExportJob.perform_later(session, id=export_id)
    assert run_burst(sqlite_store, settings).counts == {"done": 1}
    with sqlite_store.transaction() as session:
        assert get_export(session, export_id).url == url
        exports_jobs = [job for job in list_jobs(session) if job.kind == "data_export"]
        assert {job.status for job in exports_jobs} == {"done"}
    assert len(all_depositions(sandbox)) == 1

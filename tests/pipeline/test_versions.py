"""Zenodo's own versioning: every export of one name is a version of one concept DOI."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path
from typing import Any

import httpx

from tests.pipeline.conftest import all_depositions, queue, run_burst
from zenodo_export.settings import Settings
from zenodo_export.store import Store, get_export
from zenodo_export.zenodo import ZenodoClient


def record_files(sandbox: Any, record_id: int) -> dict[str, str]:
    record = httpx.get(f"{sandbox.api_url}records/{record_id}").json()
    return {item["key"]: item["checksum"] for item in record["files"]}


def md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data).hexdigest()


def month(store: Store, make_file: Any, n: int, files: dict[str, bytes]) -> int:
    paths = [make_file(f"m{n}/{name}", content) for name, content in files.items()]
    return queue(
        store,
        paths,
        name="monthly",
        publication_date=dt.date(2026, n, 10),
        title=f"Cumulative Report - month {n}",
    )


def test_three_monthly_reports_are_three_versions_of_one_concept(
    store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """Three exports of one name: one concept DOI, three versions, each with its own files."""
    first = month(store, make_file, 1, {"stats.csv": b"jan", "old.txt": b"only in jan"})
    run_burst(store, settings)
    second = month(store, make_file, 2, {"stats.csv": b"february", "README": b"same"})
    run_burst(store, settings)
    third = month(store, make_file, 3, {"stats.csv": b"march", "README": b"same"})
    run_burst(store, settings)

    with store.transaction() as session:
        exports = [get_export(session, n) for n in (first, second, third)]
        concepts = {e.concept_doi for e in exports}
        dois = [e.doi for e in exports]
        records = [e.record_id for e in exports]
        assert all(e.state == "done" for e in exports)
    assert len(concepts) == 1 and None not in concepts and len(set(dois)) == 3
    versions = httpx.get(f"{sandbox.api_url}records/{records[0]}/versions").json()["hits"]
    assert sorted(hit["id"] for hit in versions["hits"]) == sorted(records)
    assert record_files(sandbox, records[0]) == {
        "stats.csv": md5(b"jan"),
        "old.txt": md5(b"only in jan"),
    }
    assert record_files(sandbox, records[1]) == {
        "stats.csv": md5(b"february"),
        "README": md5(b"same"),
    }
    assert record_files(sandbox, records[2]) == {"stats.csv": md5(b"march"), "README": md5(b"same")}
    latest = httpx.get(
        f"{sandbox.api_url}records/{records[0]}/versions/latest", follow_redirects=True
    ).json()
    assert latest["id"] == records[2]
    assert len(all_depositions(sandbox)) == 3


def test_versions_queued_together_publish_in_order(
    store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """Three versions queued at once, three worker threads: published one after the other."""
    ids = [month(store, make_file, n, {"stats.csv": f"month {n}".encode()}) for n in (1, 2, 3)]
    done = 0
    for _ in range(50):  # burst workers exit while later versions wait (deferred 0.2 s)
        tally = run_burst(store, settings, concurrency=3)
        assert "failed" not in tally.counts
        done += tally.counts.get("done", 0)
        if done == 3:
            break
        time.sleep(0.2)
    assert done == 3
    with store.transaction() as session:
        exports = [get_export(session, n) for n in ids]
        assert len({e.concept_doi for e in exports}) == 1
        finished = [e.finished_exporting_at for e in exports]
    assert finished == sorted(finished)  # type: ignore[type-var]


def test_an_open_new_version_draft_is_resumed(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """A new-version draft left open (holding files) is resumed, not refused or duplicated."""
    first = month(sqlite_store, make_file, 1, {"stats.csv": b"jan"})
    run_burst(sqlite_store, settings)
    with sqlite_store.transaction() as session:
        record_id = get_export(session, first).record_id
    token = settings.zenodo_token.get_secret_value()
    with ZenodoClient(settings.zenodo_url, token) as client:
        leftover = client.new_version(record_id)
        stray = make_file("stray.bin", b"left by a crashed run")
        client.upload(str(leftover.bucket_url), stray)
    second = month(sqlite_store, make_file, 2, {"stats.csv": b"february"})
    assert run_burst(sqlite_store, settings).counts == {"done": 1}
    with sqlite_store.transaction() as session:
        export = get_export(sqlite_store and session, second)
        assert export.deposition_id == leftover.id and export.record_id == leftover.id
    assert record_files(sandbox, leftover.id) == {"stats.csv": md5(b"february")}
    assert len(all_depositions(sandbox)) == 2


def test_related_identifier_mode_links_a_new_concept(
    sqlite_store: Store, sandbox: Any, tmp_path: Path, make_file: Any, settings: Settings
) -> None:
    """`related-identifier`: a new concept each time, linked by Lagotto's isNewVersionOf."""
    linked = settings.model_copy(update={"versioning": "related-identifier"})
    first = month(sqlite_store, make_file, 1, {"stats.csv": b"jan"})
    run_burst(sqlite_store, linked)
    second = month(sqlite_store, make_file, 2, {"stats.csv": b"feb"})
    run_burst(sqlite_store, linked)
    with sqlite_store.transaction() as session:
        one, two = get_export(session, first), get_export(session, second)
        assert one.concept_doi != two.concept_doi
        first_doi, second_record = one.doi, two.record_id
    record = httpx.get(f"{sandbox.api_url}records/{second_record}").json()
    related = record["metadata"]["related_identifiers"]
    assert {"identifier": first_doi, "relation": "isNewVersionOf"} in [
        {"identifier": r["identifier"], "relation": r["relation"]} for r in related
    ]


def test_none_mode_makes_unrelated_records(
    sqlite_store: Store, make_file: Any, settings: Settings
) -> None:
    """`none`: each export is its own concept, with no link to the previous one."""
    alone = settings.model_copy(update={"versioning": "none"})
    ids = [month(sqlite_store, make_file, n, {"stats.csv": f"{n}".encode()}) for n in (1, 2)]
    run_burst(sqlite_store, alone)
    with sqlite_store.transaction() as session:
        exports = [get_export(session, n) for n in ids]
        assert len({e.concept_doi for e in exports}) == 2


def test_a_file_delete_whose_answer_is_lost_counts_as_done(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """Removing a carried-over file answers 504 after deleting it: checked, counted as done."""
    month(sqlite_store, make_file, 1, {"stats.csv": b"jan", "old.txt": b"only in jan"})
    run_burst(sqlite_store, settings)
    sandbox.add_fault({"method": "DELETE", "path": r"/files/", "action": "lost_response"})
    second = month(sqlite_store, make_file, 2, {"stats.csv": b"feb"})
    assert run_burst(sqlite_store, settings).counts == {"done": 1}
    with sqlite_store.transaction() as session:
        record_id = get_export(session, second).record_id
    assert record_files(sandbox, record_id) == {"stats.csv": md5(b"feb")}
    assert sandbox.admin("GET", "faults")["faults"][0]["hits"] == 1

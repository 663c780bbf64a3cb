"""Resuming a half-done export never makes a second deposition nor re-sends a confirmed file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.pipeline.conftest import add_fault, all_depositions, make_settings, queue, run_burst
from zenodo_export.exports.metadata import build_metadata
from zenodo_export.settings import Settings
from zenodo_export.store import Store, get_export, installation_key
from zenodo_export.store.types import utcnow
from zenodo_export.zenodo import ZenodoClient


def published(sandbox: Any) -> list[dict[str, Any]]:
    return [d for d in all_depositions(sandbox) if d.get("submitted")]


def test_lost_publish_answer_is_reconciled_without_publishing_again(
    store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """Publish succeeds but its answer is lost (504): the state is read, not the call repeated."""
    add_fault(sandbox, method="POST", path=r"/actions/publish$", action="lost_response", times=1)
    export_id = queue(store, [make_file("a.csv")])
    assert run_burst(store, settings).counts == {"done": 1}
    with store.transaction() as session:
        export = get_export(session, export_id)
        assert export.state == "done" and export.doi is not None
    assert len(all_depositions(sandbox)) == 1 and len(published(sandbox)) == 1


def test_publish_that_did_not_happen_is_retried_once_settled(
    store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """A 504 from publish with nothing done: watched until settled, then published next attempt."""
    add_fault(sandbox, method="POST", path=r"/actions/publish$", action="fail", status=504)
    export_id = queue(store, [make_file("a.csv")])
    assert run_burst(store, settings).counts == {"retry": 1, "done": 1}
    with store.transaction() as session:
        assert get_export(session, export_id).state == "done"
    assert len(all_depositions(sandbox)) == 1 and len(published(sandbox)) == 1


def test_create_without_answer_adopts_the_draft_it_made(
    store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """Create answered 504 after making the draft: the marked draft is found, not made twice."""
    add_fault(sandbox, method="POST", path=r"/deposit/depositions$", action="lost_response")
    export_id = queue(store, [make_file("a.csv")])
    assert run_burst(store, settings).counts == {"done": 1}
    with store.transaction() as session:
        assert get_export(session, export_id).state == "done"
    assert len(all_depositions(sandbox)) == 1


def test_create_without_answer_waits_for_the_lagging_list(
    sqlite_store: Store, sandbox_factory: Any, tmp_path: Path, make_file: Any
) -> None:
    """The list lags behind creation: an unclear create is watched until its draft shows up."""
    lagging = sandbox_factory(list_lag_seconds=1.5)
    lagging.add_fault(
        {"method": "POST", "path": r"/deposit/depositions$", "action": "lost_response"}
    )
    config = make_settings(lagging, tmp_path, settle_seconds=5.0)
    queue(sqlite_store, [make_file("a.csv")])
    assert run_burst(sqlite_store, config).counts == {"done": 1}
    assert len(all_depositions(lagging)) == 1


def test_dropped_upload_resumes_the_same_draft_and_skips_confirmed_files(
    store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """A connection dropped mid-upload: the retry reuses the draft and skips the first file."""
    first, second = make_file("first.csv", size=4000), make_file("second.csv", size=200_000)
    add_fault(
        sandbox, method="PUT", path=r"/second\.csv$", action="drop", after_bytes=50_000, times=1
    )
    export_id = queue(store, [first, second])
    # Seeded jitter: the first retry waits (1 + 0 + 6 * 2) * 0.05 = 0.65 s.
    slow_retry = settings.model_copy(update={"retry_delay_scale": 0.05, "retry_base_seconds": 0})

    assert run_burst(store, slow_retry, seed=0).counts == {"retry": 1}
    with store.transaction() as session:
        export = get_export(session, export_id)
        deposition_id, uploads = export.deposition_id, dict(export.uploads)
    assert deposition_id is not None and set(uploads) == {"first.csv"}

    time.sleep(0.8)
    assert run_burst(store, slow_retry).counts == {"done": 1}
    with store.transaction() as session:
        export = get_export(session, export_id)
        assert export.state == "done" and export.deposition_id == deposition_id
        assert export.uploads["first.csv"] == uploads["first.csv"]
        assert set(export.uploads) == {"first.csv", "second.csv"}
    assert len(all_depositions(sandbox)) == 1


def test_a_marked_draft_from_a_dead_attempt_is_adopted(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """A draft created by an attempt that died before storing its id is found and reused."""
    export_id = queue(sqlite_store, [make_file("a.csv")])
    with sqlite_store.transaction() as session:  # what the dead attempt did before dying
        export = get_export(session, export_id)
        export.started_exporting_at = utcnow()
        metadata = build_metadata(
            export.spec, export_key=export.export_key, installation=installation_key(session)
        )
    token = settings.zenodo_token.get_secret_value()
    with ZenodoClient(settings.zenodo_url, token) as client:
        orphan = client.create_deposition(metadata)
    run_burst(sqlite_store, settings)
    with sqlite_store.transaction() as session:
        export = get_export(session, export_id)
        assert export.state == "done" and export.deposition_id == orphan.id
    assert len(all_depositions(sandbox)) == 1


def test_a_first_attempt_makes_only_the_four_calls_it_needs(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """A fresh export: create (marked), upload, the record's metadata (unmarked), publish.

    No search, no other call; the published record carries no internal key.
    """
    httpx.delete(f"{sandbox.base_url}/_sandbox/stats").raise_for_status()
    export_id = queue(sqlite_store, [make_file("a.csv")])
    assert run_burst(sqlite_store, settings).counts == {"done": 1}
    stats = httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()
    assert stats["by_status"] == {"201": 2, "200": 1, "202": 1}
    with sqlite_store.transaction() as session:
        export = get_export(session, export_id)
        record_id, key = export.record_id, export.export_key
    public = httpx.get(f"{sandbox.api_url}records/{record_id}").raise_for_status().text
    assert key not in public and "export key" not in public
    assert "Archived by zenodo-export." in public

"""The janitor deletes our drafts that no export owns, and nothing else."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from tests.fixtures.cli import Run
from tests.pipeline.conftest import all_depositions, queue, run_burst, seed_attributes
from zenodo_export.exports.metadata import build_metadata
from zenodo_export.exports.spec import parse_spec
from zenodo_export.pipeline.janitor import orphans, run_janitor
from zenodo_export.settings import Settings
from zenodo_export.store import Store, get_export, list_jobs
from zenodo_export.zenodo import Deposition, ZenodoClient

NOW = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)


def draft(deposition_id: int, key: str | None, age_minutes: float) -> Deposition:
    notes = f"Archived by zenodo-export (zenodo-export export key {key})." if key else ""
    created = (NOW - dt.timedelta(minutes=age_minutes)).isoformat()
    return Deposition({"id": deposition_id, "created": created, "metadata": {"notes": notes}})


def test_orphans_are_old_marked_drafts_no_export_owns() -> None:
    """Unknown key or another stored deposition: orphan; young, unmarked or owned: kept."""
    drafts = [
        draft(1, "owned", 90),
        draft(2, "unknown", 90),
        draft(3, "other", 90),
        draft(4, "unknown", 5),
        draft(5, None, 90),
        draft(6, "pending", 90),
    ]
    owners = {"owned": 1, "other": 7, "pending": None}
    found = orphans(drafts, owners, now=NOW, grace=dt.timedelta(hours=1))
    assert [d.id for d in found] == [2, 3, 6]


def marked_draft(client: ZenodoClient, export_key: str, make_file: Any) -> int:
    spec = parse_spec(seed_attributes([make_file("x.csv")]))
    return client.create_deposition(build_metadata(spec, export_key=export_key)).id


def test_janitor_deletes_only_orphans_and_dry_run_deletes_nothing(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """Against the sandbox: orphans go; the owned record, foreign drafts and owned drafts stay."""
    done_id = queue(sqlite_store, [make_file("a.csv")])
    run_burst(sqlite_store, settings)
    token = settings.zenodo_token.get_secret_value()
    with ZenodoClient(settings.zenodo_url, token) as client:
        orphan = marked_draft(client, "no-such-export", make_file)
        foreign = client.create_deposition({"title": "not ours"}).id
        dry = run_janitor(sqlite_store, client, grace_seconds=0, dry_run=True)
        assert dry.orphans == (orphan,) and len(all_depositions(sandbox)) == 3
        report = run_janitor(sqlite_store, client, grace_seconds=0)
    assert report.orphans == (orphan,)
    remaining = {d["id"] for d in all_depositions(sandbox)}
    with sqlite_store.transaction() as session:
        assert remaining == {get_export(session, done_id).record_id, foreign}


def test_janitor_spares_young_drafts(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """A draft younger than the grace period may belong to a running attempt: kept."""
    token = settings.zenodo_token.get_secret_value()
    with ZenodoClient(settings.zenodo_url, token) as client:
        marked_draft(client, "no-such-export", make_file)
        assert run_janitor(sqlite_store, client, grace_seconds=3600).orphans == ()
    assert len(all_depositions(sandbox)) == 1


def test_workers_run_the_janitor_periodically(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """A worker schedules the janitor; when due it runs, deletes orphans, and reschedules."""
    config = settings.model_copy(
        update={"janitor_interval_seconds": 0.3, "janitor_grace_seconds": 0}
    )
    token = settings.zenodo_token.get_secret_value()
    with ZenodoClient(settings.zenodo_url, token) as client:
        marked_draft(client, "no-such-export", make_file)
    assert run_burst(sqlite_store, config).total == 0  # scheduled, not yet due
    time.sleep(0.4)
    assert run_burst(sqlite_store, config).counts == {"done": 1}
    assert all_depositions(sandbox) == []
    with sqlite_store.transaction() as session:
        statuses = sorted(j.status for j in list_jobs(session) if j.kind == "janitor")
    assert statuses == ["done", "queued"]


def test_janitor_command_dry_run_json(
    run_cli: Run, sandbox: Any, tmp_path: Path, make_file: Any
) -> None:
    """`zenodo-export janitor --dry-run --json` lists orphans and deletes nothing."""
    with ZenodoClient(sandbox.api_url, sandbox.token) as client:
        orphan = marked_draft(client, "no-such-export", make_file)
    result = run_cli("janitor", "--dry-run", "--grace", "0", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"orphans": [orphan], "drafts_seen": 1, "dry_run": True}
    assert len(all_depositions(sandbox)) == 1
    assert run_cli("janitor", "--grace", "0").returncode == 0
    assert all_depositions(sandbox) == []

"""The janitor deletes our drafts that no export owns, and nothing else."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from tests.fixtures.cli import Run
from tests.fixtures.database import opened_store
from tests.pipeline.conftest import all_depositions, queue, run_burst, seed_attributes
from zenodo_export.exports.janitor import orphans, run_janitor
from zenodo_export.exports.metadata import build_metadata, draft_mark
from zenodo_export.exports.spec import parse_spec
from zenodo_export.jobs import list_jobs
from zenodo_export.settings import Settings
from zenodo_export.store import Store, get_export, installation_key
from zenodo_export.zenodo import Deposition, ZenodoClient

NOW = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)
OURS = "ours"


def draft(
    deposition_id: int, key: str | None, age_minutes: float, installation: str = OURS
) -> Deposition:
    notes = draft_mark(key, installation) if key else ""
    created = (NOW - dt.timedelta(minutes=age_minutes)).isoformat()
    return Deposition({"id": deposition_id, "created": created, "metadata": {"notes": notes}})


def installation_of(store: Store) -> str:
    with store.transaction() as session:
        return installation_key(session)


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
    found = orphans(drafts, owners, installation=OURS, now=NOW, grace=dt.timedelta(hours=1))
    assert [d.id for d in found] == [2, 3, 6]


def test_orphans_are_only_this_installations_drafts() -> None:
    """Another installation's draft, or one marked before installations were, is never ours."""
    legacy = Deposition(
        {
            "id": 3,
            "created": (NOW - dt.timedelta(hours=2)).isoformat(),
            "metadata": {"notes": "Archived by zenodo-export (zenodo-export export key old)."},
        }
    )
    drafts = [draft(1, "unknown", 90), draft(2, "unknown", 90, installation="staging"), legacy]
    found = orphans(drafts, {}, installation=OURS, now=NOW, grace=dt.timedelta(hours=1))
    assert [d.id for d in found] == [1]


def marked_draft(
    client: ZenodoClient, export_key: str, make_file: Any, *, installation: str
) -> int:
    spec = parse_spec(seed_attributes([make_file("x.csv")]))
    metadata = build_metadata(spec, export_key=export_key, installation=installation)
    return client.create_deposition(metadata).id


def test_janitor_deletes_only_orphans_and_dry_run_deletes_nothing(
    sqlite_store: Store, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """Against the sandbox: orphans go; the owned record, foreign drafts and owned drafts stay."""
    done_id = queue(sqlite_store, [make_file("a.csv")])
    run_burst(sqlite_store, settings)
    token = settings.zenodo_token.get_secret_value()
    with ZenodoClient(settings.zenodo_url, token) as client:
        orphan = marked_draft(
            client, "no-such-export", make_file, installation=installation_of(sqlite_store)
        )
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
        marked_draft(
            client, "no-such-export", make_file, installation=installation_of(sqlite_store)
        )
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
        marked_draft(
            client, "no-such-export", make_file, installation=installation_of(sqlite_store)
        )
    assert run_burst(sqlite_store, config).total == 0  # scheduled, not yet due
    time.sleep(0.4)
    assert run_burst(sqlite_store, config).counts == {"done": 1}
    assert all_depositions(sandbox) == []
    with sqlite_store.transaction() as session:
        statuses = sorted(j.status for j in list_jobs(session) if j.kind == "janitor")
    assert statuses == ["done", "queued"]


def test_janitor_command_dry_run_json(
    run_cli: Run, cli_env: dict[str, str], sandbox: Any, tmp_path: Path, make_file: Any
) -> None:
    """`zenodo-export janitor --dry-run --json` lists orphans and deletes nothing."""
    assert run_cli("check").returncode in (0, 1)  # creates and migrates the CLI's database
    with opened_store(cli_env["DATABASE_URL"]) as store:
        ours = installation_of(store)
    with ZenodoClient(sandbox.api_url, sandbox.token) as client:
        orphan = marked_draft(client, "no-such-export", make_file, installation=ours)
    result = run_cli("janitor", "--dry-run", "--grace", "0", "--json")
    assert result.returncode == 0, result.stderr
    nothing_swept = {"exports": 0, "files": 0, "bytes_freed": 0, "orphans": 0, "temporary": 0}
    assert json.loads(result.stdout) == {
        "orphans": [orphan],
        "drafts_seen": 1,
        "dry_run": True,
        "files_store": nothing_swept,
    }
    assert len(all_depositions(sandbox)) == 1
    assert run_cli("janitor", "--grace", "0").returncode == 0
    assert all_depositions(sandbox) == []


def test_two_installations_sharing_a_token_never_delete_each_others_drafts(
    sqlite_store: Store, tmp_path: Path, settings: Settings, sandbox: Any, make_file: Any
) -> None:
    """Staging and production share a token: each janitor deletes only its own orphans."""
    with opened_store(f"sqlite:///{tmp_path / 'staging.db'}") as staging:
        production_key, staging_key = installation_of(sqlite_store), installation_of(staging)
        assert production_key != staging_key
        in_progress = queue(staging, [make_file("a.csv")])  # staging's export, mid-run
        with staging.transaction() as session:
            export_key = get_export(session, in_progress).export_key
        token = settings.zenodo_token.get_secret_value()
        with ZenodoClient(settings.zenodo_url, token) as client:
            theirs = marked_draft(client, export_key, make_file, installation=staging_key)
            ours = marked_draft(client, "gone", make_file, installation=production_key)
            report = run_janitor(sqlite_store, client, grace_seconds=0)
            assert report.orphans == (ours,)
            assert {d["id"] for d in all_depositions(sandbox)} == {theirs}
            assert run_janitor(staging, client, grace_seconds=0).orphans == (theirs,)

"""``edit``: a queued export's metadata changes before it reaches Zenodo, and only then."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.cli.test_undo import Run, queued, shown
from tests.fixtures.cli import one_line_error


def published(run_cli: Run, sandbox: Any, export_id: int) -> dict[str, Any]:
    """The metadata of the export's public record, as anyone reads it."""
    record_id = shown(run_cli, export_id)["record_id"]
    record = httpx.get(f"{sandbox.api_url}records/{record_id}").raise_for_status().json()
    return dict(record["metadata"])


def test_edit_a_queued_export_then_publish_it(run_cli: Run, tmp_path: Path, sandbox: Any) -> None:
    """The record carries the edited title, keywords and date; the rest stays as created."""
    export_id = queued(run_cli, tmp_path)
    edited = run_cli(
        "edit", str(export_id), "--title", "Better title", "--keyword", "a", "--keyword", "b",
        "--publication-date", "2026-01-31",
    )  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout.strip() == (
        f"export {export_id} edited: --title, --keyword, --publication-date"
    )
    assert run_cli("worker", "--burst").returncode == 0
    metadata = published(run_cli, sandbox, export_id)
    assert metadata["title"] == "Better title" and metadata["keywords"] == ["a", "b"]
    assert metadata["publication_date"] == "2026-01-31" and metadata["description"] == "D"
    assert shown(run_cli, export_id)["state"] == "done"


def test_a_bad_value_names_the_flag_and_changes_nothing(run_cli: Run, tmp_path: Path) -> None:
    """A bad date: one line naming --publication-date, exit 4; the export is as it was."""
    export_id = queued(run_cli, tmp_path)
    before = shown(run_cli, export_id)["data"]
    refused = run_cli("edit", str(export_id), "--title", "New", "--publication-date", "31/01")
    one_line_error(refused, 4, "--publication-date")
    assert shown(run_cli, export_id)["data"] == before


def test_nothing_to_change_is_a_usage_error(run_cli: Run, tmp_path: Path) -> None:
    """``edit ID`` alone says what to give (exit 2); an unknown id is exit 5."""
    export_id = queued(run_cli, tmp_path)
    bare = run_cli("edit", str(export_id))
    assert bare.returncode == 2 and "give at least one option" in bare.stderr
    one_line_error(run_cli("edit", "999", "--title", "X"), 5, "999")


def test_a_published_export_or_one_with_a_draft_cannot_be_edited(
    run_cli: Run, tmp_path: Path, sandbox: Any
) -> None:
    """Once Zenodo holds the metadata (a draft or a record), edit refuses saying why (exit 6)."""
    done = queued(run_cli, tmp_path, "done")
    assert run_cli("worker", "--burst").returncode == 0
    line = one_line_error(run_cli("edit", str(done), "--title", "X"), 6, "published")
    assert shown(run_cli, done)["url"] in line
    sandbox.add_fault({"method": "PUT", "path": "^/api/files/", "action": "fail", "status": 400})
    drafted = queued(run_cli, tmp_path, "drafted")
    assert run_cli("worker", "--burst").returncode == 0
    view = shown(run_cli, drafted)
    assert view["state"] == "failed" and view["deposition_id"] is not None
    one_line_error(run_cli("edit", str(drafted), "--title", "X"), 6, "has a draft on Zenodo")
    assert shown(run_cli, drafted)["data"]["title"] == "T"


def test_a_failed_export_that_never_reached_zenodo_can_be_fixed_and_retried(
    run_cli: Run, tmp_path: Path, sandbox: Any
) -> None:
    """Cancelled before its draft: edit it, retry it, and the record has the fix."""
    export_id = queued(run_cli, tmp_path)
    assert run_cli("cancel", str(export_id)).returncode == 0
    assert run_cli("edit", str(export_id), "--creator", "Roe, Richard").returncode == 0
    assert run_cli("retry", str(export_id)).returncode == 0
    assert run_cli("worker", "--burst").returncode == 0
    metadata = published(run_cli, sandbox, export_id)
    assert [c["name"] for c in metadata["creators"]] == ["Roe, Richard"]
    assert json.loads(run_cli("show", str(export_id), "--json").stdout)["state"] == "done"

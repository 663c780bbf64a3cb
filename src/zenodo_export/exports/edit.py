"""Editing a queued export's metadata before any of it reaches Zenodo.

Only what a person may fix after typing it can change: the title, description, creators,
keywords, publication date, code URL, license, version and communities. The name (it picks
the record's earlier versions) and the files (they are staged as they were) cannot: delete
the export and create it again. Once a worker has made its draft, the metadata is Zenodo's
too, so an export with a deposition, a running one and a published one are refused, saying
why. The export's queued job is held while it changes, so a worker never runs half an edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zenodo_export.errors import Conflict, InvalidExport
from zenodo_export.exports.spec import ExportSpec, parse_spec
from zenodo_export.jobs import queue
from zenodo_export.store import DataExport, Store, ZenodoDataExport, get_export

EDITABLE = (
    "title",
    "description",
    "creators",
    "keywords",
    "publication_date",
    "code_repository_url",
    "license",
    "version",
    "communities",
)
"""The attributes ``edit_export`` may change."""


def edit_export(store: Store, export_id: int, changes: Mapping[str, Any]) -> list[str]:
    """Change a queued export's metadata; return the names changed.

    Raises ``InvalidExport`` for a bad or uneditable value, ``Conflict`` when the export is
    past the point where its metadata is ours alone.
    """
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidExport(unknown[0], "cannot be edited: delete the export and create it again")
    with store.transaction() as session:
        export = get_export(session, export_id)
        held = queue.lock_queued_in(session, export_id)
        problem = edit_problem(export, queued=held)
        if problem is not None:
            raise Conflict(problem)
        before = dict(export.data or {})
        fields = {k: v for k, v in before.items() if k in ExportSpec.model_fields}
        after = parse_spec({**fields, "name": export.name, **changes}).to_data()
        changed = [key for key in EDITABLE if before.get(key) != after.get(key)]
        export.data = {**before, **after}
        return changed


def edit_problem(export: DataExport, *, queued: bool) -> str | None:
    """Say why ``export`` cannot be edited now, or None when it can."""
    if not isinstance(export, ZenodoDataExport):
        return f"export {export.id} is a {export.type}: only a file export's metadata can change"
    if export.state == "done":
        return f"export {export.id} is published ({export.url}): a record cannot be edited here"
    if export.deposition_id is not None:
        return (
            f"export {export.id} has a draft on Zenodo already (deposition "
            f"{export.deposition_id}): cancel it and create the export again"
        )
    if export.state == "processing" and not queued:
        return f"export {export.id} is being uploaded now: cancel it first"
    return None

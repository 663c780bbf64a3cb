"""Run one export to the end, resumably: every step stores what it learnt before the next.

The order, and what is stored when:

1. a finished export is left alone (never uploaded twice); an export whose earlier version
   (same name) is still queued or running waits for it (``Deferred``);
2. ``started_exporting_at`` is stamped and the files are checked, before any network call;
3. the draft: the stored deposition id is reused; else, for a new version (``native``
   versioning), the concept's open draft is resumed or ``newversion`` opens one; else a draft
   carrying this export's mark is adopted (only an earlier attempt can have left one); else
   one is created. Its id, bucket and concept id are stored at once;
4. the files (``files.py``): each confirmed upload is recorded at once;
5. the record's metadata is PUT: the draft's, without the mark (no internal key is published);
6. publish; the record's URL, DOI and ids are stored and ``finished_exporting_at`` stamped.

A deposition found already published at step 3 (a publish whose answer was lost) goes
straight to step 6. Unclear answers to create, newversion and publish are reconciled in
``drafts.py``.

The run holds its job's lease: before each irreversible step (create, newversion, each file
and each chunk of it, the metadata PUT, publish) it checks that the lease still holds, and
every write of the export goes through a transaction fenced by the lease, so a run that lost
its job stops and writes nothing while another worker carries on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zenodo_export import defaults
from zenodo_export.errors import Deferred, NotFound, Rejected, ZenodoNotFound
from zenodo_export.exports.drafts import Drafts
from zenodo_export.exports.files import FileSync, local_files
from zenodo_export.exports.metadata import build_metadata
from zenodo_export.exports.progress import LogProgress, Progress
from zenodo_export.exports.spec import ExportSpec
from zenodo_export.filestore import FilesStore
from zenodo_export.jobs.lease import Lease
from zenodo_export.store import (
    DataExport,
    Store,
    earlier_in_progress,
    get_export,
    installation_key,
    owner_of_deposition,
    previous_version,
    transition,
)
from zenodo_export.zenodo.client import ZenodoClient
from zenodo_export.zenodo.models import Deposition

__all__ = ["DepositionGone", "ExportRun", "RunStart"]


class DepositionGone(Rejected, NotFound):
    """The deposition an export was building was deleted on Zenodo."""


@dataclass(frozen=True)
class Parent:
    """The published previous version a native new version hangs from."""

    record_id: int
    concept_rec_id: str


@dataclass(frozen=True)
class RunStart:
    """What a run needs of a stored export, read when it starts."""

    id: int
    spec: ExportSpec
    export_key: str
    installation: str
    deposition_id: int | None
    uploads: dict[str, Any]
    finished: bool
    first_attempt: bool
    parent: Parent | None = None
    previous_doi: str | None = None

    def metadata(self, *, marked: bool = True) -> dict[str, Any]:
        """Return the full Zenodo metadata of the export: a draft's (marked) or the record's."""
        return build_metadata(
            self.spec,
            export_key=self.export_key,
            installation=self.installation,
            previous_doi=self.previous_doi,
            marked=marked,
        )


def versioning_of(export: DataExport, session: Any, mode: str) -> tuple[Parent | None, str | None]:
    """Return the parent (native mode) or the previous DOI (related-identifier mode)."""
    if mode == "none":
        return None, None
    previous = previous_version(session, export)
    if previous is None:
        return None, None
    if mode == "related-identifier":
        return None, previous.doi
    if previous.record_id is None or previous.concept_rec_id is None:
        return None, None
    return Parent(previous.record_id, previous.concept_rec_id), None


class ExportRun:
    """One attempt at one export, against one store and one Zenodo client."""

    def __init__(
        self,
        store: Store,
        client: ZenodoClient,
        export_id: int,
        *,
        lease: Lease,
        progress: Progress | None = None,
        versioning: str = "native",
        settle_seconds: float = defaults.SETTLE_SECONDS,
        defer_seconds: float = defaults.DEFER_SECONDS,
        files: FilesStore | None = None,
    ) -> None:
        self.files = files
        self.store = store
        self.client = client
        self.export_id = export_id
        self.lease = lease
        self.progress: Progress = progress or LogProgress()
        self.versioning = versioning
        self.defer_seconds = defer_seconds
        self.drafts = Drafts(client, settle_seconds=settle_seconds)

    def run(self) -> None:
        """Take the export as far as it goes; raises our errors on failure."""
        snap = self._start()
        if snap.finished:
            self.progress.step(self.export_id, "already finished, nothing to do")
            return
        local = local_files(snap.spec, self.files)
        self.progress.step(self.export_id, f"{len(local)} file(s) checked")
        deposition = self._ensure_draft(snap)
        if not deposition.is_published:
            FileSync(self.lease, self.drafts, self.export_id, self.progress, self.files).sync(
                deposition, local, snap.uploads
            )
            # The record's metadata, without the draft's mark (its id is stored: the mark is no
            # longer needed to find it); an adopted or new-version draft gets its metadata here.
            self.progress.step(self.export_id, "sending the record's metadata")
            self.lease.check()
            self.client.update_metadata(deposition.id, snap.metadata(marked=False))
            self.progress.step(self.export_id, f"publishing deposition {deposition.id}")
            self.lease.check()
            deposition = self.drafts.publish(deposition.id)
        self._finish(deposition)

    # Steps 1-2 ---------------------------------------------------------------------------

    def _start(self) -> RunStart:
        with self.lease.transaction() as session:
            export = get_export(session, self.export_id)
            mode = export.spec.versioning or self.versioning
            if export.finished_exporting_at is None and mode != "none":
                self._wait_for_earlier(session, export)
            first = (
                export.started_exporting_at is None
                and export.failed_at is None
                and export.attempts == 0
            )
            if export.state == "pending":
                transition(export, "start")
            parent, previous_doi = versioning_of(export, session, mode)
            return RunStart(
                id=export.id,
                spec=export.spec,
                export_key=export.export_key,
                installation=installation_key(session),
                deposition_id=export.deposition_id,
                uploads=dict(export.uploads or {}),
                finished=export.finished_exporting_at is not None,
                first_attempt=first,
                parent=parent,
                previous_doi=previous_doi,
            )

    def _wait_for_earlier(self, session: Any, export: DataExport) -> None:
        earlier = earlier_in_progress(session, export)
        if earlier is not None:
            raise Deferred(
                f"export {export.id} waits for export {earlier.id} of the same name "
                f"({export.name}) to finish, so that versions are published in order",
                retry_after=self.defer_seconds,
            )

    # Step 3 ------------------------------------------------------------------------------

    def _ensure_draft(self, snap: RunStart) -> Deposition:
        """Return the export's draft (or record), its id stored."""
        if snap.deposition_id is not None:
            return self._stored_deposition(snap.deposition_id)
        if snap.parent is not None:
            deposition = self._new_version_draft(snap.parent)
        else:
            deposition = self._plain_draft(snap)
        self._remember(deposition)
        return deposition

    def _plain_draft(self, snap: RunStart) -> Deposition:
        # Only an earlier attempt can have left a draft (every attempt stamps the start first).
        adopted = None if snap.first_attempt else self.drafts.find_marked(snap.export_key)
        if adopted is not None:
            self.progress.step(self.export_id, f"adopting draft {adopted.id}")
            return self.client.get_deposition(adopted.id)
        self.progress.step(self.export_id, "creating the deposition")
        self.lease.check()
        return self.drafts.create(snap.metadata(), export_key=snap.export_key)

    def _new_version_draft(self, parent: Parent) -> Deposition:
        draft = self.drafts.find_concept_draft(parent.concept_rec_id)
        if draft is not None:
            self.progress.step(self.export_id, f"resuming open new-version draft {draft.id}")
            draft = self.client.get_deposition(draft.id)
        else:
            self.progress.step(
                self.export_id, f"opening a new version of concept {parent.concept_rec_id}"
            )
            self.lease.check()
            draft = self.drafts.new_version(parent.record_id, parent.concept_rec_id)
        self._check_not_owned_by_another(draft)
        return draft

    def _check_not_owned_by_another(self, draft: Deposition) -> None:
        with self.store.transaction() as session:
            owner = owner_of_deposition(session, draft.id)
            if owner is not None and owner.id != self.export_id:
                raise Deferred(
                    f"the open draft {draft.id} of this concept belongs to export {owner.id}; "
                    f"export {self.export_id} waits for it",
                    retry_after=self.defer_seconds,
                )

    def _stored_deposition(self, deposition_id: int) -> Deposition:
        try:
            return self.client.get_deposition(deposition_id)
        except ZenodoNotFound as exc:
            self._forget_deposition()
            raise DepositionGone(
                f"deposition {deposition_id} of export {self.export_id} no longer exists "
                "on Zenodo (deleted there?); `zenodo-export retry` starts a new one"
            ) from exc

    def _forget_deposition(self) -> None:
        with self.lease.transaction() as session:
            export = get_export(session, self.export_id)
            export.deposition_id = None
            export.bucket_url = None
            export.uploads = {}

    def _remember(self, deposition: Deposition) -> None:
        with self.lease.transaction() as session:
            export = get_export(session, self.export_id)
            export.deposition_id = deposition.id
            export.bucket_url = deposition.bucket_url
            export.concept_rec_id = deposition.concept_rec_id

    # Step 6 ------------------------------------------------------------------------------

    def _finish(self, deposition: Deposition) -> None:
        with self.lease.transaction() as session:
            export = get_export(session, self.export_id)
            transition(export, "finish")
            export.url = deposition.record_url
            export.doi = deposition.doi
            export.record_id = deposition.id
            export.concept_rec_id = deposition.concept_rec_id
            export.concept_doi = deposition.concept_doi
            export.remote_deposition = deposition.raw
        self.progress.step(
            self.export_id, f"published {deposition.record_url} (DOI {deposition.doi})"
        )

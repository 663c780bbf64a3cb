"""Run one export to the end, resumably: every step stores what it learnt before the next.

The order, and what is stored when:

1. a finished export is left alone (never uploaded twice);
2. ``started_exporting_at`` is stamped and the files are checked (before any network call);
3. the draft: the stored deposition id is reused; else a draft carrying this export's mark is
   adopted; else one is created — and its id, bucket and concept id are stored at once;
4. the files: carried-over or stale files are deleted, changed ones overwritten, identical ones
   (same md5) skipped; each upload is recorded (size, md5, mtime) as soon as Zenodo confirms it;
5. the full metadata is PUT (a new-version draft arrives with most of it stripped);
6. publish; the record's URL, DOI and ids are stored and ``finished_exporting_at`` stamped.

A deposition found already published at step 3 (a publish whose answer was lost) goes
straight to step 6.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from zenodo_export.errors import NotFound, Rejected, ZenodoNotFound
from zenodo_export.exports.metadata import build_metadata, mark_in
from zenodo_export.exports.spec import ExportSpec, check_files
from zenodo_export.pipeline.plan import LocalFile, needs_hash, plan_files
from zenodo_export.store import Store, get_export, previous_version
from zenodo_export.zenodo.client import ZenodoClient
from zenodo_export.zenodo.models import Deposition

log = logging.getLogger(__name__)


class DepositionGone(Rejected, NotFound):
    """The deposition an export was building was deleted on Zenodo."""


class Reporter(Protocol):
    """Receives progress of an export (a rich progress bar, a log, or nothing)."""

    def step(self, export_id: int, message: str) -> None:
        """Say what the export is doing now."""

    def file_started(self, export_id: int, name: str, size: int) -> None:
        """A file upload begins."""

    def advance(self, export_id: int, name: str, sent: int) -> None:
        """``sent`` more bytes of ``name`` went out."""

    def file_done(self, export_id: int, name: str) -> None:
        """A file upload ended."""


class LogReporter:
    """Report progress to the log, one line per step and per file."""

    def step(self, export_id: int, message: str) -> None:
        """Log the step."""
        log.info("export %s: %s", export_id, message)

    def file_started(self, export_id: int, name: str, size: int) -> None:
        """Log the upload's start."""
        log.info("export %s: uploading %s (%d bytes)", export_id, name, size)

    def advance(self, export_id: int, name: str, sent: int) -> None:
        """Say nothing per chunk."""

    def file_done(self, export_id: int, name: str) -> None:
        """Log the upload's end."""
        log.info("export %s: uploaded %s", export_id, name)


@dataclass(frozen=True)
class Snapshot:
    """What the pipeline needs of a stored export, read in one short transaction."""

    id: int
    spec: ExportSpec
    export_key: str
    deposition_id: int | None
    uploads: dict[str, Any]
    finished: bool
    previous_doi: str | None
    first_attempt: bool


def metadata_of(snap: Snapshot) -> dict[str, Any]:
    """Return the full Zenodo metadata of the export."""
    return build_metadata(snap.spec, export_key=snap.export_key, previous_doi=snap.previous_doi)


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware."""
    return dt.datetime.now(dt.UTC)


class ExportRun:
    """One attempt at one export, against one store and one Zenodo client."""

    def __init__(
        self,
        store: Store,
        client: ZenodoClient,
        export_id: int,
        *,
        reporter: Reporter | None = None,
        versioning: str = "native",
    ) -> None:
        self.store = store
        self.client = client
        self.export_id = export_id
        self.reporter: Reporter = reporter or LogReporter()
        self.versioning = versioning

    def run(self) -> None:
        """Take the export as far as it goes; raises our errors on failure."""
        snap = self._start()
        if snap.finished:
            self.reporter.step(self.export_id, "already finished, nothing to do")
            return
        local = self._local_files(snap.spec)
        deposition, created = self._ensure_draft(snap)
        if not deposition.is_published:
            self._sync_files(deposition, local, snap.uploads)
            if not created:  # an adopted or resumed draft may hold other metadata
                self.reporter.step(self.export_id, "sending the metadata")
                self.client.update_metadata(deposition.id, metadata_of(snap))
            self.reporter.step(self.export_id, f"publishing deposition {deposition.id}")
            deposition = self.client.publish(deposition.id)
        self._finish(deposition)

    # Step 1-2 ----------------------------------------------------------------------------

    def _start(self) -> Snapshot:
        with self.store.transaction() as session:
            export = get_export(session, self.export_id)
            first = (
                export.started_exporting_at is None
                and export.failed_at is None
                and export.attempts == 0
            )
            if export.finished_exporting_at is None and export.started_exporting_at is None:
                export.started_exporting_at = utcnow()
            previous = None
            if self.versioning_mode(export.spec) == "related-identifier":
                earlier = previous_version(session, export)
                previous = earlier.doi if earlier is not None else None
            return Snapshot(
                id=export.id,
                spec=export.spec,
                export_key=export.export_key,
                deposition_id=export.deposition_id,
                uploads=dict(export.uploads or {}),
                finished=export.finished_exporting_at is not None,
                previous_doi=previous,
                first_attempt=first,
            )

    def versioning_mode(self, spec: ExportSpec) -> str:
        """Return the export's own versioning mode, or the configured one."""
        return spec.versioning or self.versioning

    def _local_files(self, spec: ExportSpec) -> list[LocalFile]:
        check_files(spec)
        self.reporter.step(self.export_id, f"{len(spec.files)} file(s) checked")
        found = []
        for path in spec.files:
            stat = os.stat(path)
            found.append(LocalFile(Path(path).name, path, stat.st_size, stat.st_mtime_ns))
        return found

    # Step 3 ------------------------------------------------------------------------------

    def _ensure_draft(self, snap: Snapshot) -> tuple[Deposition, bool]:
        """Return the export's draft (or record), and whether this call created it."""
        if snap.deposition_id is not None:
            return self._stored_deposition(snap.deposition_id), False
        # Only an earlier attempt can have left a draft (every attempt stamps the start first).
        adopted = None if snap.first_attempt else self._find_marked_draft(snap.export_key)
        if adopted is not None:
            self.reporter.step(self.export_id, f"adopting draft {adopted.id}")
            deposition, created = self.client.get_deposition(adopted.id), False
        else:
            self.reporter.step(self.export_id, "creating the deposition")
            deposition, created = self.client.create_deposition(metadata_of(snap)), True
        self._remember_deposition(deposition)
        return deposition, created

    def _stored_deposition(self, deposition_id: int) -> Deposition:
        try:
            return self.client.get_deposition(deposition_id)
        except ZenodoNotFound as exc:
            raise DepositionGone(
                f"deposition {deposition_id} of export {self.export_id} no longer exists "
                "on Zenodo (deleted there?); `zenodo-export retry` starts a new one"
            ) from exc

    def _find_marked_draft(self, export_key: str) -> Deposition | None:
        for deposition in self.client.list_depositions(status="draft"):
            if mark_in(deposition.metadata) == export_key:
                return deposition
        return None

    def _remember_deposition(self, deposition: Deposition) -> None:
        with self.store.transaction() as session:
            export = get_export(session, self.export_id)
            export.deposition_id = deposition.id
            export.bucket_url = deposition.bucket_url
            export.concept_rec_id = deposition.concept_rec_id

    # Step 4 ------------------------------------------------------------------------------

    def _sync_files(
        self, deposition: Deposition, local: list[LocalFile], recorded: dict[str, Any]
    ) -> None:
        remote = deposition.files
        hashed = {item.name: md5_of(item.path) for item in needs_hash(local, remote, recorded)}
        plan = plan_files(local, remote, recorded, hashed)
        for extra in plan.delete:
            self.reporter.step(self.export_id, f"removing {extra.name} from the draft")
            self.client.delete_file(deposition.id, extra.id)
        for same in plan.skip:
            self.reporter.step(self.export_id, f"{same.name} is already on Zenodo")
            if same.name in hashed:  # carried over, not yet recorded as ours
                self._record_upload(same, hashed[same.name])
        bucket = deposition.bucket_url
        if plan.upload and not bucket:
            bucket = self.client.get_deposition(deposition.id).bucket_url
        for item in plan.upload:
            self._upload(str(bucket), item)

    def _upload(self, bucket_url: str, item: LocalFile) -> None:
        self.reporter.file_started(self.export_id, item.name, item.size)
        progress: Callable[[int], None] = lambda sent: self.reporter.advance(  # noqa: E731
            self.export_id, item.name, sent
        )
        try:
            done = self.client.upload(bucket_url, item.path, name=item.name, progress=progress)
        finally:
            self.reporter.file_done(self.export_id, item.name)
        self._record_upload(item, done.md5)

    def _record_upload(self, item: LocalFile, md5: str) -> None:
        with self.store.transaction() as session:
            export = get_export(session, self.export_id)
            uploads = dict(export.uploads or {})
            uploads[item.name] = {
                "size": item.size,
                "md5": md5,
                "mtime_ns": item.mtime_ns,
                "uploaded_at": utcnow().isoformat(),
            }
            export.uploads = uploads

    # Step 6 ------------------------------------------------------------------------------

    def _finish(self, deposition: Deposition) -> None:
        with self.store.transaction() as session:
            export = get_export(session, self.export_id)
            export.url = deposition.record_url
            export.doi = deposition.doi
            export.record_id = deposition.id
            export.concept_rec_id = deposition.concept_rec_id
            export.concept_doi = deposition.concept_doi
            export.remote_deposition = deposition.raw
            export.finished_exporting_at = utcnow()
            export.failed_at = None
            export.last_error = None
        self.reporter.step(
            self.export_id, f"published {deposition.record_url} (DOI {deposition.doi})"
        )


def md5_of(path: str, chunk_size: int = 1024 * 1024) -> str:
    """Return the md5 hex digest of a file, reading it in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        while chunk := stream.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()

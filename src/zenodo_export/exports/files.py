"""Make a draft hold exactly the export's files, recording each confirmed upload at once.

A staged file streams from the files store into the upload (no local copy); a file read in
place streams from this machine's disk.

Files carried into a new-version draft are deleted when this export lacks them, overwritten
when they differ, and kept when their md5 matches. Each upload's size, md5 and mtime are
stored as soon as Zenodo confirms them, so a resumed attempt never sends a file twice. The
lease is checked before each file and after each chunk sent: a run that lost its job aborts
the upload in flight, so no file is sent by two runs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from zenodo_export.clock import utcnow
from zenodo_export.errors import ConfigError, StagedFileMissing
from zenodo_export.exports.drafts import Drafts
from zenodo_export.exports.plan import LocalFile, needs_hash, plan_files
from zenodo_export.exports.progress import Progress
from zenodo_export.exports.spec import ExportSpec, check_files
from zenodo_export.filestore import FilesStore, StagedFile
from zenodo_export.jobs.lease import Lease
from zenodo_export.store import get_export
from zenodo_export.zenodo.models import Deposition


def md5_of(path: str, chunk_size: int = 1024 * 1024) -> str:
    """Return the md5 hex digest of a file, reading it in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        while chunk := stream.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def local_files(spec: ExportSpec, files: FilesStore | None = None) -> list[LocalFile]:
    """Check the export's files and describe them.

    Staged files must be in the files store (``StagedFileMissing`` naming the file and the
    store); files read in place are checked on this disk (``InvalidExport`` naming a bad one).
    """
    if spec.staged:
        return [_staged(item, files) for item in spec.staged]
    check_files(spec)
    found = []
    for path in spec.files:
        stat = os.stat(path)
        found.append(LocalFile(Path(path).name, path, stat.st_size, stat.st_mtime_ns))
    return found


def _staged(item: StagedFile, files: FilesStore | None) -> LocalFile:
    if files is None:
        raise ConfigError(f"{item.name} is staged in a files store, and none was given")
    if not files.exists(item.key):
        raise StagedFileMissing(
            f"{item.name} (from {item.source}) is missing from the files store {files.shown}"
        )
    return LocalFile(item.name, item.source, item.size, 0, key=item.key, md5=item.md5)


class FileSync:
    """Syncs one export's files into its draft."""

    def __init__(
        self,
        lease: Lease,
        drafts: Drafts,
        export_id: int,
        progress: Progress,
        files: FilesStore | None = None,
    ) -> None:
        self.files = files
        self.lease = lease
        self.drafts = drafts
        self.client = drafts.client
        self.export_id = export_id
        self.progress = progress

    def sync(
        self, deposition: Deposition, local: list[LocalFile], recorded: dict[str, Any]
    ) -> None:
        """Delete, skip and upload so that the draft holds exactly ``local``."""
        remote = deposition.files
        hashed = {item.name: md5_of(item.path) for item in needs_hash(local, remote, recorded)}
        plan = plan_files(local, remote, recorded, hashed)
        for extra in plan.delete:
            self.progress.step(self.export_id, f"removing {extra.name} from the draft")
            self.lease.check()
            self.drafts.delete_file(deposition, extra.id, extra.name)
        for same in plan.skip:
            self.progress.step(self.export_id, f"{same.name} is already on Zenodo")
            if same.name in hashed:  # carried over, not yet recorded as ours
                self._record(same, hashed[same.name])
        bucket = deposition.bucket_url
        if plan.upload and not bucket:
            bucket = self.client.get_deposition(deposition.id).bucket_url
        for item in plan.upload:
            self._upload(str(bucket), item)

    def _upload(self, bucket_url: str, item: LocalFile) -> None:
        self.progress.file_started(self.export_id, item.name, item.size)

        def progress(sent: int) -> None:
            self.progress.advance(self.export_id, item.name, sent)
            self.lease.check()  # raising here aborts the upload in flight

        self.lease.check()
        opener = None
        if item.key is not None and self.files is not None:
            files, key = self.files, item.key
            opener = lambda: files.open(key, name=item.name)  # noqa: E731
        try:
            done = self.client.upload(
                bucket_url,
                item.path,
                name=item.name,
                progress=progress,
                opener=opener,
                size=item.size,
            )
        finally:
            self.progress.file_done(self.export_id, item.name)
        self._record(item, done.md5)

    def _record(self, item: LocalFile, md5: str) -> None:
        with self.lease.transaction() as session:
            export = get_export(session, self.export_id)
            uploads = dict(export.uploads or {})
            uploads[item.name] = {
                "size": item.size,
                "md5": md5,
                "mtime_ns": item.mtime_ns,
                "uploaded_at": utcnow().isoformat(),
            }
            export.uploads = uploads

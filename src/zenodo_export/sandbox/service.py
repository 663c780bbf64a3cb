"""The deposition life cycle as Zenodo runs it: states, actions, versions, files and limits.

HTTP handlers parse requests and serialise answers; the decisions live here, on top of
``Storage``. States: ``unsubmitted`` (never published), ``done`` (published), ``inprogress``
(published and being edited). A published deposition's bucket is locked; a new version is a
new deposition (new id, same concept) that starts with the previous version's files.
"""

from __future__ import annotations

import copy
import re
import time
import uuid
from dataclasses import dataclass
from typing import Literal

from zenodo_export.sandbox import metadata
from zenodo_export.sandbox.auth import Caller, check_owner
from zenodo_export.sandbox.config import SandboxConfig
from zenodo_export.sandbox.errors import ApiError, field_error, not_found, validation_error
from zenodo_export.sandbox.faults import FaultBook
from zenodo_export.sandbox.ratelimit import RateLimiter
from zenodo_export.sandbox.serializers import Versions
from zenodo_export.sandbox.storage import Deposition, Storage, StoredFile, now_iso

StatusFilter = Literal["draft", "published"] | None
LOCKED = "Bucket is locked for modifications."
NOT_LATEST = "The new version must be made from the latest published version."


@dataclass(frozen=True)
class ListQuery:
    """What a deposition list asks for."""

    status: StatusFilter = None
    q: str = ""
    page: int = 1
    size: int = 10
    all_versions: bool = True


@dataclass(frozen=True)
class SizeLimit:
    """How many bytes an upload may have, and the message when it has more."""

    limit: int
    message: str


class Sandbox:
    """The state of one running sandbox: config, storage, faults, limiter and counters."""

    def __init__(self, config: SandboxConfig) -> None:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.storage = Storage(config.data_dir)
        self.faults = FaultBook(config.faults)
        self.limiter = RateLimiter(lambda: self.config.rate_limits)

    def close(self) -> None:
        """Release the database."""
        self.storage.close()

    def reconfigure(self, config: SandboxConfig) -> None:
        """Switch to changed settings (rate-limit counts start afresh when limits change)."""
        if config.rate_limits != self.config.rate_limits:
            self.limiter.reset()
        self.config = config

    # Reading

    def owned(self, caller: Caller, dep_id: int) -> Deposition:
        """Return a deposition of the caller: 404 if unknown, 403 if someone else's."""
        dep = self.storage.get(dep_id)
        if dep is None:
            raise not_found()
        check_owner(caller, dep)
        return dep

    def files(self, dep: Deposition) -> list[StoredFile]:
        """Return a deposition's files."""
        return self.storage.files(dep.bucket)

    def versions(self, dep: Deposition) -> Versions:
        """Return where ``dep`` stands among its concept's published versions."""
        published = [v.id for v in self.storage.versions(dep.conceptrecid) if v.submitted]
        latest = max(published) if published else None
        index = published.index(dep.id) if dep.id in published else len(published)
        return Versions(latest_id=latest, index=index, is_last=dep.id == latest)

    def listing(self, caller: Caller, query: ListQuery) -> list[Deposition]:
        """Return one page of the caller's depositions as the lagging search index has them."""
        visible_after = time.time() - self.config.list_lag_seconds
        found = [
            dep
            for dep, created_at in self.storage.listing(caller.user_id)
            if created_at <= visible_after and _wanted(dep, query)
        ]
        if not query.all_versions:
            found = [d for d in found if not d.submitted or self.versions(d).is_last]
        start = (query.page - 1) * query.size
        return found[start : start + query.size]

    # Changing

    def create(self, caller: Caller, meta: dict[str, object]) -> Deposition:
        """Create an empty deposition with new concept and record ids."""
        concept = self.storage.next_value("recid")
        stamp = now_iso()
        dep = Deposition(
            id=self.storage.next_value("recid"),
            owner=caller.user_id,
            conceptrecid=concept,
            bucket=str(uuid.uuid4()),
            created=stamp,
            modified=stamp,
            metadata=metadata.load(meta),
        )
        self.storage.save(dep, created_at=time.time())
        return dep

    def update(self, dep: Deposition, meta: object) -> Deposition:
        """Replace a draft's metadata (404 on a published deposition not being edited)."""
        if dep.state == "done":
            raise not_found()
        dep.metadata = metadata.load(meta)
        return self._touch(dep)

    def delete(self, dep: Deposition) -> None:
        """Delete a never-published deposition (404 once published)."""
        if dep.submitted:
            raise not_found()
        self.storage.delete(dep)

    def publish(self, dep: Deposition) -> Deposition:
        """Publish a draft or an edit; 400 with field errors when something is missing."""
        if dep.state == "done":
            raise not_found()
        errors = metadata.publish_errors(dep.metadata, file_count=len(self.files(dep)))
        if errors:
            raise validation_error(errors)
        dep.state = "done"
        dep.record_metadata = copy.deepcopy(dep.metadata)
        dep.published = dep.published or now_iso()
        return self._touch(dep)

    def edit(self, dep: Deposition) -> Deposition:
        """Open a published deposition for metadata changes (files stay locked)."""
        if dep.state == "done":
            dep.state = "inprogress"
            return self._touch(dep)
        return dep

    def discard(self, dep: Deposition) -> None:
        """Drop a never-published deposition, or undo an edit; 404 when there is no draft."""
        if dep.state == "unsubmitted":
            self.storage.delete(dep)
        elif dep.state == "inprogress":
            dep.state = "done"
            dep.metadata = copy.deepcopy(dep.record_metadata or {})
            self._touch(dep)
        else:
            raise not_found()

    def new_version(self, dep: Deposition) -> Deposition:
        """Return the concept's new-version draft, made now or reused while it is empty."""
        versions = self.storage.versions(dep.conceptrecid)
        published = [v for v in versions if v.submitted]
        if not dep.submitted:
            raise not_found()
        if dep.id != published[-1].id:
            raise ApiError(400, NOT_LATEST)
        draft = next((v for v in versions if not v.submitted), None)
        if draft is not None and self.files(draft):
            raise validation_error([field_error("files.enabled", "Please remove all files first.")])
        if draft is None:
            stamp = now_iso()
            draft = Deposition(
                id=self.storage.next_value("recid"),
                owner=dep.owner,
                conceptrecid=dep.conceptrecid,
                bucket=str(uuid.uuid4()),
                created=stamp,
                modified=stamp,
                metadata=metadata.new_version_metadata(dep.record_metadata or {}),
            )
            self.storage.save(draft, created_at=time.time())
        self.storage.copy_files(dep.bucket, draft.bucket)
        return draft

    def _touch(self, dep: Deposition) -> Deposition:
        dep.modified = now_iso()
        self.storage.save(dep)
        return dep

    # Files

    def bucket_owned(self, caller: Caller, bucket: str) -> Deposition:
        """Return the deposition of a bucket of the caller (404 if unknown, 403 if not theirs)."""
        dep = self.storage.by_bucket(bucket)
        if dep is None:
            raise not_found("Bucket does not exist.")
        check_owner(caller, dep)
        return dep

    def writable_bucket(self, caller: Caller, bucket: str) -> Deposition:
        """Return the deposition of a bucket the caller may change (and 403 once locked)."""
        dep = self.bucket_owned(caller, bucket)
        if dep.submitted:
            raise ApiError(403, LOCKED)
        return dep

    def size_limit(self, dep: Deposition, key: str) -> SizeLimit:
        """Return the bytes ``key`` may have; 400 when one more file is one too many."""
        others = [f for f in self.files(dep) if f.key != key]
        if len(others) + 1 > self.config.max_files:
            raise ApiError(
                400, f"Uploading too many files: a record holds at most {self.config.max_files}."
            )
        quota_left = self.config.max_record_bytes - sum(f.size for f in others)
        if quota_left < self.config.max_file_bytes:
            return SizeLimit(max(quota_left, 0), "Bucket quota exceeded.")
        return SizeLimit(self.config.max_file_bytes, "Maximum file size exceeded.")

    def delete_file(self, dep: Deposition, stored: StoredFile) -> None:
        """Delete a file of a draft (403 once published)."""
        if dep.submitted:
            raise ApiError(403, LOCKED)
        self.storage.delete_file(stored)


def _wanted(dep: Deposition, query: ListQuery) -> bool:
    """Say whether a deposition passes the list's status filter and ``q``."""
    if query.status == "draft" and dep.submitted:
        return False
    if query.status == "published" and not dep.submitted:
        return False
    return matches_query(dep, query.q)


def matches_query(dep: Deposition, q: str) -> bool:
    """Match ``q``: ``conceptrecid:N``, ``recid:N`` / ``id:N``, else a title substring."""
    q = q.strip()
    field = re.fullmatch(r"(conceptrecid|recid|id):\"?(\d+)\"?", q)
    if field:
        value = dep.conceptrecid if field[1] == "conceptrecid" else dep.id
        return str(value) == field[2]
    return q.strip('"').lower() in str(dep.metadata.get("title", "")).lower()

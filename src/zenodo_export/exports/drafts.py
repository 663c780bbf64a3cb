"""The calls that are not safe to repeat (create, newversion, publish), and how to find drafts.

Zenodo has no idempotency key. A non-idempotent call that fails without a clear answer (a
504, a reset, a time-out) may still have happened, so it is never blindly repeated: the
remote state is read, watched for up to ``settle_seconds`` (the deposition list lags behind
creation; a publish may complete minutes after its 504), and only then is a decision taken.
A 429 is a clear answer: nothing happened. Whatever is found is returned for the caller to
store at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from zenodo_export.errors import RateLimited, Transient, ZenodoRejected
from zenodo_export.exports.metadata import mark_in
from zenodo_export.zenodo.client import ZenodoClient
from zenodo_export.zenodo.models import Deposition

T = TypeVar("T")

SETTLE_POLL_SECONDS = 1.0
"""How often the remote state is read again while it settles."""


def unclear(exc: Transient) -> bool:
    """Say whether a failed call may nonetheless have happened (not a rate limit)."""
    return not isinstance(exc, RateLimited)


def blocks_new_version(exc: ZenodoRejected) -> bool:
    """Say whether Zenodo refused a newversion because an open draft already holds files."""
    return any(error.field == "files.enabled" for error in exc.errors)


class Drafts:
    """Finds, creates, versions and publishes depositions, reconciling unclear answers."""

    def __init__(
        self,
        client: ZenodoClient,
        *,
        settle_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.settle_seconds = settle_seconds
        self.sleep = sleep

    # Finding ----------------------------------------------------------------------------

    def find_marked(self, export_key: str) -> Deposition | None:
        """Return the open draft marked with ``export_key``, if the list shows one."""
        for deposition in self.client.iter_depositions(status="draft"):
            if mark_in(deposition.metadata) == export_key:
                return deposition
        return None

    def find_concept_draft(self, concept_rec_id: str) -> Deposition | None:
        """Return the open (new-version) draft of a concept, if the list shows one."""
        query = f"conceptrecid:{concept_rec_id}"
        for deposition in self.client.iter_depositions(status="draft", query=query):
            if deposition.concept_rec_id == concept_rec_id and not deposition.submitted:
                return deposition
        return None

    # Calls that must not be repeated blindly ---------------------------------------------

    def create(self, metadata: dict[str, Any], *, export_key: str) -> Deposition:
        """Create a draft; after an unclear failure, adopt the draft if it shows up."""
        try:
            return self.client.create_deposition(metadata)
        except Transient as exc:
            found = self._reconcile(
                exc,
                lambda: self.find_marked(export_key),
                "no draft with this export's mark appeared",
            )
            return self.client.get_deposition(found.id)

    def new_version(self, record_id: int, concept_rec_id: str) -> Deposition:
        """Open a new-version draft of the concept's latest version, or adopt the open one."""
        latest = self.client.latest_version_id(record_id)
        try:
            return self.client.new_version(latest)
        except ZenodoRejected as exc:
            if not blocks_new_version(exc):
                raise
            failure: Transient = Transient(str(exc))
            failure.__cause__ = exc
        except Transient as exc:
            failure = exc
        found = self._reconcile(
            failure,
            lambda: self.find_concept_draft(concept_rec_id),
            f"the open draft of concept {concept_rec_id} did not show up",
        )
        return self.client.get_deposition(found.id)

    def publish(self, deposition_id: int) -> Deposition:
        """Publish a draft; after an unclear failure, wait to see it published."""
        try:
            return self.client.publish(deposition_id)
        except Transient as exc:
            return self._reconcile(
                exc,
                lambda: self._published(deposition_id),
                f"deposition {deposition_id} was not published",
            )

    def _published(self, deposition_id: int) -> Deposition | None:
        deposition = self.client.get_deposition(deposition_id)
        return deposition if deposition.is_published else None

    def _reconcile(self, exc: Transient, probe: Callable[[], T | None], missing: str) -> T:
        """After an unclear failure, watch the remote state settle; re-raise if nothing shows."""
        if not unclear(exc):
            raise exc
        found = self._settle(probe)
        if found is None:
            raise Transient(
                f"{exc}; {missing} within {self.settle_seconds:g} s, so the next attempt "
                "looks again before repeating the call",
                retry_after=exc.retry_after,
            ) from exc
        return found

    def delete_file(self, deposition: Deposition, file_id: str, name: str) -> None:
        """Delete a file of a draft; a 5xx after which the file is gone counts as done."""
        try:
            self.client.delete_file(deposition.id, file_id)
        except Transient as exc:
            if not unclear(exc):
                raise
            remaining = {item.name for item in self.client.list_files(deposition.id)}
            if name in remaining:
                raise

    def _settle(self, probe: Callable[[], T | None]) -> T | None:
        """Read the remote state until ``probe`` finds something or the settle time is over."""
        deadline = time.monotonic() + self.settle_seconds
        while True:
            found = probe()
            if found is not None or time.monotonic() >= deadline:
                return found
            self.sleep(min(SETTLE_POLL_SECONDS, max(0.0, deadline - time.monotonic())))

"""The janitor: delete our drafts that no export owns, once they are old enough.

Zenodo never expires drafts, and a draft created by an attempt that died before storing its
id, or a duplicate made while the deposition list lagged, would stay forever. Every draft we
create carries its installation's key and its export's key (``exports/metadata.py``). A draft
is an orphan only when it carries THIS installation's key and no export of this database has
its export key, or that export stored another deposition: installations that share a token
(staging and production) never delete each other's drafts, and drafts marked before
installations were (no installation key) are left alone. The grace period protects a draft
that a running attempt has just created and is about to store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from zenodo_export.clock import utcnow
from zenodo_export.errors import ZenodoNotFound
from zenodo_export.exports.metadata import installation_in, mark_in
from zenodo_export.store import Store, exports_by_key, installation_key
from zenodo_export.zenodo.client import ZenodoClient
from zenodo_export.zenodo.models import Deposition

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JanitorReport:
    """What one janitor run found and did."""

    orphans: tuple[int, ...]
    drafts_seen: int
    dry_run: bool


def created_at(deposition: Deposition) -> dt.datetime | None:
    """Return when Zenodo created a deposition, timezone-aware, if it says."""
    raw = deposition.raw.get("created")
    if not raw:
        return None
    when = dt.datetime.fromisoformat(str(raw))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def orphans(
    drafts: Sequence[Deposition],
    owners: Mapping[str, int | None],
    *,
    installation: str,
    now: dt.datetime,
    grace: dt.timedelta,
) -> list[Deposition]:
    """Return this installation's drafts older than ``grace`` whose export does not own them.

    ``owners`` maps export keys to the deposition id each export stored (None if none yet).
    """
    found = []
    for draft in drafts:
        key = mark_in(draft.metadata)
        created = created_at(draft)
        if key is None or installation_in(draft.metadata) != installation:
            continue
        if created is None or now - created < grace:
            continue
        if owners.get(key, -1) != draft.id:
            found.append(draft)
    return found


def run_janitor(
    store: Store,
    client: ZenodoClient,
    *,
    grace_seconds: float,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> JanitorReport:
    """List the drafts, find the orphans, and delete them unless ``dry_run``."""
    drafts = [d for d in client.iter_depositions(status="draft") if not d.submitted]
    keys = {key for d in drafts if (key := mark_in(d.metadata)) is not None}
    with store.transaction() as session:
        owners = {key: e.deposition_id for key, e in exports_by_key(session, keys).items()}
        ours = installation_key(session)
    found = orphans(
        drafts,
        owners,
        installation=ours,
        now=now or utcnow(),
        grace=dt.timedelta(seconds=grace_seconds),
    )
    for draft in found if not dry_run else ():
        with contextlib.suppress(ZenodoNotFound):  # gone already: what we wanted
            client.delete_deposition(draft.id)
        log.info("janitor: deleted orphan draft %s (%s)", draft.id, mark_in(draft.metadata))
    return JanitorReport(tuple(d.id for d in found), len(drafts), dry_run)

"""Pure decisions of the export pipeline: which files to send, skip or delete; retry delays."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from zenodo_export.errors import Deferred, RateLimited, Rejected, Transient, ZenodoExportError
from zenodo_export.zenodo.models import RemoteFile


@dataclass(frozen=True)
class LocalFile:
    """A file of the export as it is on disk now."""

    name: str
    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class FilePlan:
    """What to do so that the draft holds exactly the export's files."""

    upload: tuple[LocalFile, ...] = ()
    skip: tuple[LocalFile, ...] = ()
    delete: tuple[RemoteFile, ...] = field(default=())


def known_md5(local: LocalFile, recorded: Mapping[str, Any]) -> str | None:
    """Return the md5 recorded at upload if the file has not changed on disk since."""
    entry = recorded.get(local.name)
    if not entry or entry.get("size") != local.size or entry.get("mtime_ns") != local.mtime_ns:
        return None
    return str(entry.get("md5") or "") or None


def needs_hash(
    local: Sequence[LocalFile], remote: Sequence[RemoteFile], recorded: Mapping[str, Any]
) -> list[LocalFile]:
    """Return the local files whose md5 must be computed to know if Zenodo has them already.

    Only a same-named, same-sized remote file with no trustworthy record needs it (e.g. a
    file carried over into a new-version draft).
    """
    by_name = {item.name: item for item in remote}
    return [
        item
        for item in local
        if item.name in by_name
        and by_name[item.name].size == item.size
        and known_md5(item, recorded) is None
    ]


def plan_files(
    local: Sequence[LocalFile],
    remote: Sequence[RemoteFile],
    recorded: Mapping[str, Any],
    hashed: Mapping[str, str],
) -> FilePlan:
    """Decide which files to upload, skip (already there, same md5) and delete (not ours)."""
    by_name = {item.name: item for item in remote}
    upload, skip = [], []
    for item in local:
        there = by_name.get(item.name)
        md5 = known_md5(item, recorded) or hashed.get(item.name)
        if there is not None and there.size == item.size and md5 and md5 == there.md5:
            skip.append(item)
        else:
            upload.append(item)
    wanted = {item.name for item in local}
    delete = tuple(item for item in remote if item.name not in wanted)
    return FilePlan(upload=tuple(upload), skip=tuple(skip), delete=delete)


Action = Literal["retry", "postpone", "fail"]


@dataclass(frozen=True)
class Decision:
    """What to do after an attempt failed, and after how many seconds."""

    action: Action
    delay: float = 0.0


def sidekiq_delay(attempt: int, *, base: float, rng: random.Random | None = None) -> float:
    """Sidekiq's back-off: ``attempt**4 + base + rand(10) * (attempt + 1)`` seconds."""
    rng = rng or random.Random()
    return float(attempt**4 + base + rng.randrange(10) * (attempt + 1))


def decide(
    exc: BaseException,
    *,
    attempt: int,
    max_attempts: int,
    base: float,
    scale: float = 1.0,
    rng: random.Random | None = None,
) -> Decision:
    """Decide whether a failed attempt is retried, postponed (rate limit) or final."""
    if isinstance(exc, RateLimited | Deferred):
        return Decision("postpone", exc.retry_after if exc.retry_after is not None else 60.0)
    if isinstance(exc, Rejected) or (
        isinstance(exc, ZenodoExportError) and not isinstance(exc, Transient)
    ):
        return Decision("fail")
    if attempt >= max_attempts:
        return Decision("fail")
    delay = sidekiq_delay(attempt, base=base, rng=rng) * scale
    if isinstance(exc, Transient) and exc.retry_after is not None:
        delay = max(delay, exc.retry_after)
    return Decision("retry", delay)

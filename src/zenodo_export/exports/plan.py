"""Pure decisions of an export run: which files to send, skip or delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zenodo_export.zenodo.models import RemoteFile


@dataclass(frozen=True)
class LocalFile:
    """A file of the export: on this machine's disk now, or staged in the files store
    (``key``), whose md5 was computed when it was staged."""

    name: str
    path: str
    size: int
    mtime_ns: int
    key: str | None = None
    md5: str | None = None


@dataclass(frozen=True)
class FilePlan:
    """What to do so that the draft holds exactly the export's files."""

    upload: tuple[LocalFile, ...] = ()
    skip: tuple[LocalFile, ...] = ()
    delete: tuple[RemoteFile, ...] = field(default=())


def known_md5(local: LocalFile, recorded: Mapping[str, Any]) -> str | None:
    """Return the md5 recorded at staging, or at upload if the file has not changed since."""
    if local.md5:
        return local.md5
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

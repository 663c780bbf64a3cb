"""Staging: an export's files go into the files store before the export is queued.

``stage_files`` checks each file as ``check_files`` does (a regular, readable, non-empty file
within Zenodo's limits), then streams it into the store under its content's key, computing
the md5 that the worker will check Zenodo's against (it never reads the file again). What it
returns is what ``ZenodoDataExport.create`` takes as ``files``. The export and its job are
inserted afterwards, in one transaction: an export whose files are not all staged is never
queued. Content staged twice is stored once; a file changed after staging changes nothing
that is published.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from zenodo_export import defaults
from zenodo_export.exports.spec import check_paths
from zenodo_export.filestore import FilesStore, StagedFile


def stage_files(
    files: FilesStore,
    paths: Sequence[str | os.PathLike[str]],
    *,
    max_bytes: int = defaults.MAX_RECORD_BYTES,
) -> tuple[StagedFile, ...]:
    """Check and stage each file; return their entries in order (named by their file names)."""
    absolute = [str(Path(path).expanduser().absolute()) for path in paths]
    check_paths(absolute, max_bytes=max_bytes)
    return tuple(files.stage(Path(path), Path(path).name) for path in absolute)

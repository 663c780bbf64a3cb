"""The files store: exports' files, report and snapshot outputs, where every worker reads them.

``files_store(settings)`` opens the store ``ZENODO_EXPORT_STORAGE`` names (see ``location``);
``FilesStore`` reads and writes files by key (see ``store``); a ``StagedFile`` is what an
export keeps of each file it staged (see ``staged``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zenodo_export.filestore.location import SETTING, Location, default_location, open_location
from zenodo_export.filestore.staged import StagedFile, blob_key
from zenodo_export.filestore.store import CHUNK, FilesStore, Written

if TYPE_CHECKING:
    from zenodo_export.settings import Settings


def files_store(settings: Settings) -> FilesStore:
    """Open the files store of ``settings``; ``ConfigError`` naming the setting if it cannot be."""
    return FilesStore(open_location(settings.storage, settings.data_dir))


__all__ = [
    "CHUNK",
    "SETTING",
    "FilesStore",
    "Location",
    "StagedFile",
    "Written",
    "blob_key",
    "default_location",
    "files_store",
    "open_location",
]

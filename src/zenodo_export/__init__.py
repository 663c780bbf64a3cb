"""zenodo-export: archive data exports as published, citable Zenodo records."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from zenodo_export.errors import (
    AuthRejected,
    ChecksumMismatch,
    ConfigError,
    Conflict,
    InvalidExport,
    NotFound,
    RateLimited,
    Rejected,
    StagedFileMissing,
    StorageUnavailable,
    Transient,
    ZenodoExportError,
    ZenodoNotFound,
    ZenodoRejected,
)
from zenodo_export.exports.kinds import DataExportJob
from zenodo_export.exports.staging import stage_files
from zenodo_export.filestore import files_store
from zenodo_export.settings import Settings, load_settings
from zenodo_export.store import Store, ZenodoDataExport

try:
    __version__ = version("zenodo-export")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "AuthRejected",
    "ChecksumMismatch",
    "ConfigError",
    "Conflict",
    "DataExportJob",
    "InvalidExport",
    "NotFound",
    "RateLimited",
    "Rejected",
    "Settings",
    "StagedFileMissing",
    "StorageUnavailable",
    "Store",
    "Transient",
    "ZenodoDataExport",
    "ZenodoExportError",
    "ZenodoNotFound",
    "ZenodoRejected",
    "__version__",
    "files_store",
    "load_settings",
    "stage_files",
]

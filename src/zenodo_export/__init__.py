"""zenodo-export: archive data exports as published, citable Zenodo records."""

from __future__ import annotations

from zenodo_export.errors import (
    AuthRejected,
    ChecksumMismatch,
    ConfigError,
    Conflict,
    InvalidExport,
    NotFound,
    RateLimited,
    Rejected,
    Transient,
    ZenodoExportError,
    ZenodoNotFound,
    ZenodoRejected,
)
from zenodo_export.settings import Settings, load_settings
from zenodo_export.store import DataExportJob, Store, ZenodoDataExport

__version__ = "0.1.0"

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
    "Store",
    "Transient",
    "ZenodoDataExport",
    "ZenodoExportError",
    "ZenodoNotFound",
    "ZenodoRejected",
    "__version__",
    "load_settings",
]

"""Named defaults of the sandbox, each Zenodo's own value unless said otherwise."""

from __future__ import annotations

DATA_SUBDIR = "sandbox"
"""Folder under the settings' data dir where the sandbox keeps its state by default."""

DATABASE_FILE = "sandbox.db"
"""SQLite file inside the sandbox data dir holding depositions, files and counters."""

SCOPES = ("deposit:write", "deposit:actions")
"""Scopes a token gets unless limited on the command line."""

KNOWN_SCOPES = frozenset(SCOPES)
"""Every scope the legacy deposit API knows."""

RATE_LIMITS = ("100/minute", "5000/hour")
"""Zenodo's limits for authenticated users (rate-limit doc, 2025-11)."""

MAX_FILES = 100
"""Files per record (RDM_RECORDS_MAX_FILES_COUNT)."""

MAX_RECORD_BYTES = 50 * 10**9
"""Bytes per record (RDM_FILES_DEFAULT_QUOTA_SIZE, decimal GB)."""

MAX_FILE_BYTES = 50 * 10**9
"""Bytes per file (RDM_FILES_DEFAULT_MAX_FILE_SIZE, decimal GB)."""

MULTIPART_MAX_BYTES = 100 * 10**6
"""Request size of the old multipart upload before nginx answers 413."""

LIST_LAG_SECONDS = 0.0
"""Seconds before a new deposition shows up in list results (search index lag)."""

BODY_IDLE_TIMEOUT = 30.0
"""Seconds an upload may send nothing before it is answered as shorter than its Content-Length."""

MAX_JSON_BYTES = 2**20
"""Bytes of a JSON request body (metadata, admin calls) before 413; the sandbox's own cap."""

MAX_FAULT_PATTERN_CHARS = 200
"""Longest path regex a fault rule may have."""

CHUNK_SIZE = 1024 * 1024
"""Bytes per chunk when the sandbox streams a stored file back."""

PAGE_SIZE = 10
"""Default page size of the deposition list."""

MAX_PAGE_SIZE = 100
"""Largest page size the deposition list accepts."""

DOI_PREFIX = "10.5281"
"""DOI prefix; Zenodo derives ``<prefix>/zenodo.<record id>`` even on its sandbox."""

FIRST_RECORD_ID = 1
"""First record id handed out by a fresh data dir."""

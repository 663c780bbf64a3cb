"""Named defaults, one place for all of them. Each has a one-line docstring."""

from __future__ import annotations

from pathlib import Path
from typing import Final

DATA_DIR = Path.home() / ".local" / "share" / "zenodo-export"
"""Where the embedded SQLite database and the sandbox keep their files."""

DATABASE_FILE = "zenodo-export.db"
"""File name of the embedded SQLite database inside the data dir."""

CONFIG_FILE = "config.toml"
"""File name of the reports and schedules config inside the data dir (optional there)."""

SCHEDULE_TICK_SECONDS = 30.0
"""How often each worker looks for due schedules (at most; the first look is at start)."""

MONTHLY_DAY = 10
"""Day of the month a ``monthly`` schedule fires (Lagotto's: the 10th)."""

MONTHLY_TIME = "02:50"
"""Time of day (HH:MM) a ``monthly`` schedule fires (Lagotto's: 02:50)."""

MAX_CATCH_UP = 12
"""Most missed periods of one schedule run when the workers come back (the newest ones)."""

REPORT_KEYWORDS = ("alm", "article-level metrics")
"""Keywords of a report's record unless its config sets ``keywords``."""

ZENODO_URL = "https://zenodo.org/api/"
"""Zenodo's API base URL (the sandbox is https://sandbox.zenodo.org/api/)."""

HTTP_TIMEOUT = 60.0
"""Seconds to wait for Zenodo to connect, answer or accept the next chunk."""

UPLOAD_CHUNK_SIZE = 1024 * 1024
"""Bytes read from disk per chunk of a streaming upload (memory stays at about this)."""

MAX_FILES_PER_RECORD = 100
"""Zenodo's limit of files per record."""

MAX_RECORD_BYTES = 50 * 10**9
"""Zenodo's limit per record and per file: 50 GB, decimal."""

MAX_ATTEMPTS = 25
"""Attempts before an export fails for good (Sidekiq's default retry count)."""

RETRY_BASE_SECONDS = 15.0
"""Constant part of the Sidekiq-like back-off: delay = attempt**4 + base + jitter."""

RETRY_DELAY_SCALE = 1.0
"""Factor on every back-off delay (not on Retry-After); 0 retries at once, for tests."""

LEASE_SECONDS = 60.0
"""How long a claimed job stays ours without a heartbeat; a killed worker's job is free after it."""

SETTLE_SECONDS = 30.0
"""How long to watch Zenodo settle after a create/publish/newversion with no clear answer."""

JANITOR_GRACE_SECONDS = 3600.0
"""Age after which a marked draft that no export owns is deleted by the janitor."""

JANITOR_INTERVAL_SECONDS = 3600.0
"""How often the workers run the janitor."""

DEFER_SECONDS = 5.0
"""How long an export waits before looking again whether an earlier version has finished."""

RATE_LIMITS = "100/minute,5000/hour"
"""Requests every worker sharing a token may send, per sliding window (Zenodo's own limits)."""

PACING_MAX_WAIT = 60.0
"""Longest a request waits for its turn; a longer wait postpones the job, no attempt used."""

POLL_INTERVAL = 1.0
"""Seconds an idle worker waits before looking for a ready job again."""

WORKER_CONCURRENCY = 1
"""Exports a worker runs at the same time."""

LOG_LEVEL: Final = "INFO"
"""Least severe level the worker logs (``DEBUG``, ``INFO``, ``WARNING``, ``ERROR``)."""

LOG_FORMAT: Final = "text"
"""How the worker writes its log on stderr: ``text`` lines, or ``json`` (one object per line)."""

LICENSE = "cc-zero"
"""License of every export unless set otherwise (Lagotto's choice)."""

UPLOAD_TYPE = "dataset"
"""Zenodo upload type of every export unless set otherwise."""

ACCESS_RIGHT = "open"
"""Zenodo access right of every export unless set otherwise."""

SANDBOX_HOST = "127.0.0.1"
"""Interface the local sandbox listens on."""

SANDBOX_PORT = 5000
"""Port the local sandbox listens on."""

SANDBOX_TOKEN = "sandbox-token"
"""Token the local sandbox accepts when none is given."""

REPORT_TIMEOUT_SECONDS = 300.0
"""Seconds a report's query may run (PostgreSQL ``statement_timeout``; SQLite interrupts it)."""

CRAWL_MAX_PAGE_BYTES = 128 * 1024 * 1024
"""Largest page a crawl takes, counted after decompression (a gzip bomb stops here)."""

CRAWL_PAGE_SECONDS = 300.0
"""Longest one page may take, from its request to its last byte (not per read)."""

CRAWL_MAX_PAGES = 1_000_000
"""Most pages one snapshot crawls; reaching it fails the snapshot."""

CRAWL_MAX_SNAPSHOT_BYTES = 50 * 10**9
"""Most bytes one snapshot's pages may hold: Zenodo's limit of a record (50 GB)."""

CRAWL_SNAPSHOT_SECONDS = 7 * 86400.0
"""Longest one snapshot's crawl may take, from its first page (a week)."""

CRAWL_MAX_CONCURRENCY = 16
"""Most pages of one snapshot fetched at the same time, whatever its ``concurrency`` asks."""

CRAWL_MAX_REDIRECTS = 5
"""Most redirects followed for one page."""

STORAGE_RETENTION_DAYS = 30.0
"""Days a finished export's staged files stay in the files store before the janitor removes
them (an export failed for good keeps them as long, so that a retry can still run)."""

WEB_SESSION_HOURS = 12.0
"""How long a dashboard sign-in lasts (``ZENODO_EXPORT_WEB_SESSION_HOURS``)."""

"""The sandbox's persistent state: a SQLite file plus one blob file per stored upload.

Layout of the data dir::

    sandbox.db        counters, users, depositions (one JSON document each), files
    blobs/ab/<uuid>   file contents; a new version's files share the previous blobs
    .sandbox-tmp-*/   uploads in progress, one dir per running sandbox (see ``TempDir``)

Everything is written before the answer is sent, so a restart loses nothing and ids keep
counting up. One lock serialises the connection, which the server thread and the caller's
thread may both use.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from zenodo_export.sandbox import defaults

State = Literal["unsubmitted", "inprogress", "done"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (token_sha256 TEXT PRIMARY KEY, id INTEGER NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS depositions (
    id INTEGER PRIMARY KEY,
    owner INTEGER NOT NULL,
    conceptrecid INTEGER NOT NULL,
    bucket TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS depositions_concept ON depositions (conceptrecid);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    md5 TEXT NOT NULL,
    blob TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (bucket, key)
);
CREATE INDEX IF NOT EXISTS files_blob ON files (blob);
"""


def now_iso() -> str:
    """Return the current UTC time as Zenodo writes it (ISO 8601 with offset)."""
    return datetime.now(UTC).isoformat()


@dataclass
class Deposition:
    """A deposition: a record id with its draft metadata and, once published, its record."""

    id: int
    owner: int
    conceptrecid: int
    bucket: str
    created: str
    modified: str
    state: State = "unsubmitted"
    metadata: dict[str, Any] = field(default_factory=dict)
    record_metadata: dict[str, Any] | None = None
    published: str | None = None

    @property
    def submitted(self) -> bool:
        """Say whether the deposition was ever published."""
        return self.state != "unsubmitted"


@dataclass(frozen=True)
class StoredFile:
    """One file in a bucket."""

    id: str
    bucket: str
    key: str
    size: int
    md5: str
    blob: str
    created: str
    updated: str


TEMP_PREFIX = ".sandbox-tmp-"
"""Name prefix of the sandbox's own temp dirs inside the data dir."""

TEMP_MARKER = ".zenodo-export-sandbox-tmp"
"""File inside each of those dirs that says the sandbox made it (it holds the owner's pid)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, someone else's
        return True
    return True


def _owner_pid(directory: Path) -> int | None:
    """Return the pid in ``directory``'s marker, or None when it is not a dir the sandbox made."""
    if directory.is_symlink() or not directory.is_dir():
        return None
    marker = directory / TEMP_MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        return int(marker.read_text().strip())
    except (OSError, ValueError):
        return None


def make_temp_dir(data_dir: Path) -> Path:
    """Create this process's marked temp dir; first remove marked ones of processes now gone.

    Only directories named ``.sandbox-tmp-*`` that carry ``TEMP_MARKER`` with the pid of a
    process that no longer runs are removed: the sandbox deletes nothing it did not create.
    """
    for candidate in data_dir.glob(f"{TEMP_PREFIX}*"):
        pid = _owner_pid(candidate)
        if pid is not None and pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(candidate, ignore_errors=True)
    directory = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=data_dir))
    (directory / TEMP_MARKER).write_text(f"{os.getpid()}\n")
    return directory


def remove_temp_dir(directory: Path) -> None:
    """Remove a temp dir made by ``make_temp_dir`` (nothing happens to any other dir)."""
    if _owner_pid(directory) is not None:
        shutil.rmtree(directory, ignore_errors=True)


class Storage:
    """Depositions, files, users and counters of one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.blob_dir = data_dir / "blobs"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir = make_temp_dir(data_dir)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            data_dir / defaults.DATABASE_FILE, check_same_thread=False, isolation_level=None
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; speed for tests
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database connection and remove this process's temp dir."""
        with self._lock:
            self._db.close()
        remove_temp_dir(self.tmp_dir)

    def _transaction(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def next_value(self, counter: str, first: int = defaults.FIRST_RECORD_ID) -> int:
        """Return the next value of a persistent counter."""
        with self._lock:
            self._transaction(
                [
                    ("INSERT OR IGNORE INTO counters VALUES (?, ?)", (counter, first - 1)),
                    ("UPDATE counters SET value = value + 1 WHERE name = ?", (counter,)),
                ]
            )
            return int(self._query("SELECT value FROM counters WHERE name = ?", (counter,))[0][0])

    def user_id(self, token: str) -> int:
        """Return the user id of a token, the same across restarts (first seen, first id)."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            rows = self._query("SELECT id FROM users WHERE token_sha256 = ?", (digest,))
            if rows:
                return int(rows[0][0])
            user = self.next_value("user", first=1)
            self._transaction([("INSERT INTO users VALUES (?, ?)", (digest, user))])
            return user

    # Depositions

    def save(self, dep: Deposition, *, created_at: float | None = None) -> None:
        """Insert or replace a deposition document."""
        doc = json.dumps(asdict(dep))
        if created_at is None:
            self._transaction([("UPDATE depositions SET doc = ? WHERE id = ?", (doc, dep.id))])
            return
        row = (dep.id, dep.owner, dep.conceptrecid, dep.bucket, created_at, doc)
        self._transaction([("INSERT INTO depositions VALUES (?, ?, ?, ?, ?, ?)", row)])

    def get(self, dep_id: int) -> Deposition | None:
        """Return a deposition by id."""
        rows = self._query("SELECT doc FROM depositions WHERE id = ?", (dep_id,))
        return Deposition(**json.loads(rows[0][0])) if rows else None

    def by_bucket(self, bucket: str) -> Deposition | None:
        """Return the deposition that owns a bucket."""
        rows = self._query("SELECT doc FROM depositions WHERE bucket = ?", (bucket,))
        return Deposition(**json.loads(rows[0][0])) if rows else None

    def listing(self, owner: int | None = None) -> list[tuple[Deposition, float]]:
        """Return depositions (of one owner, or all), newest first, with their creation time."""
        where, params = ("WHERE owner = ?", (owner,)) if owner is not None else ("", ())
        rows = self._query(
            f"SELECT doc, created_at FROM depositions {where} ORDER BY created_at DESC, id DESC",
            params,
        )
        return [(Deposition(**json.loads(r[0])), float(r[1])) for r in rows]

    def versions(self, conceptrecid: int) -> list[Deposition]:
        """Return every deposition of a concept, oldest first."""
        rows = self._query(
            "SELECT doc FROM depositions WHERE conceptrecid = ? ORDER BY id", (conceptrecid,)
        )
        return [Deposition(**json.loads(r[0])) for r in rows]

    def delete(self, dep: Deposition) -> None:
        """Delete a deposition and its files."""
        blobs = [f.blob for f in self.files(dep.bucket)]
        self._transaction(
            [
                ("DELETE FROM files WHERE bucket = ?", (dep.bucket,)),
                ("DELETE FROM depositions WHERE id = ?", (dep.id,)),
            ]
        )
        self._drop_unused_blobs(blobs)

    # Files

    def files(self, bucket: str) -> list[StoredFile]:
        """Return the files of a bucket in upload order."""
        rows = self._query("SELECT * FROM files WHERE bucket = ? ORDER BY created, key", (bucket,))
        return [StoredFile(**dict(r)) for r in rows]

    def file(
        self, bucket: str, *, key: str | None = None, file_id: str | None = None
    ) -> StoredFile | None:
        """Return one file of a bucket by key or by id."""
        column, value = ("key", key) if key is not None else ("id", file_id)
        rows = self._query(
            f"SELECT * FROM files WHERE bucket = ? AND {column} = ?", (bucket, value)
        )
        return StoredFile(**dict(rows[0])) if rows else None

    def temp_path(self) -> Path:
        """Return a fresh path for an upload in progress."""
        return self.tmp_dir / uuid.uuid4().hex

    def blob_path(self, blob: str) -> Path:
        """Return where a blob's content lives."""
        return self.blob_dir / blob[:2] / blob

    def put_file(self, bucket: str, key: str, *, source: Path, size: int, md5: str) -> StoredFile:
        """Store ``source`` (moved, not copied) as ``key``, replacing a file of that key."""
        blob = uuid.uuid4().hex
        target = self.blob_path(blob)
        target.parent.mkdir(exist_ok=True)
        os.replace(source, target)
        old = self.file(bucket, key=key)
        stamp = now_iso()
        new = StoredFile(str(uuid.uuid4()), bucket, key, size, md5, blob, stamp, stamp)
        if old is not None:
            new = StoredFile(new.id, bucket, key, size, md5, blob, old.created, stamp)
        self._transaction(
            [
                ("DELETE FROM files WHERE bucket = ? AND key = ?", (bucket, key)),
                ("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tuple(asdict(new).values())),
            ]
        )
        if old is not None:
            self._drop_unused_blobs([old.blob])
        return new

    def delete_file(self, stored: StoredFile) -> None:
        """Delete one file (its blob goes when no other version shares it)."""
        self._transaction([("DELETE FROM files WHERE id = ?", (stored.id,))])
        self._drop_unused_blobs([stored.blob])

    def copy_files(self, source_bucket: str, target_bucket: str) -> None:
        """Give ``target_bucket`` the files of ``source_bucket``, sharing their blobs."""
        stamp = now_iso()
        self._transaction(
            [
                (
                    "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (str(uuid.uuid4()), target_bucket, f.key, f.size, f.md5, f.blob, stamp, stamp),
                )
                for f in self.files(source_bucket)
            ]
        )

    def _drop_unused_blobs(self, blobs: list[str]) -> None:
        for blob in blobs:
            if not self._query("SELECT 1 FROM files WHERE blob = ? LIMIT 1", (blob,)):
                self.blob_path(blob).unlink(missing_ok=True)

"""The one exception tree of zenodo-export.

Branches say what a caller can do about the error, not where it came from::

    ZenodoExportError             root: catch this to catch everything of ours
    ├── ConfigError               a setting or config file is wrong: fix the setting
    ├── Rejected                  the input is wrong: fix it, retrying will not help
    │   ├── InvalidExport         our own validation of an export (names the field)
    │   │   └── TooLarge          an upload beyond its size limit (HTTP 413)
    │   ├── StagedFileMissing     a staged file is gone from the files store (names both)
    │   ├── ZenodoRejected        Zenodo refused the request (4xx, with its field messages)
    │   ├── AuthRejected          Zenodo refused the token (401/403), with a scope hint
    │   └── NotAllowed            the web API or dashboard: no valid token, or not its role
    ├── NotFound                  no such export, job, alert, deposition or file
    │   └── ZenodoNotFound        Zenodo answered 404 for something we expected to exist
    ├── Conflict                  the remote state disagrees with ours (e.g. already published)
    ├── LeaseLost                 another worker may own this job now: stop, change nothing
    ├── WorkerLost                the workers running a job kept dying: it failed for good
    └── Transient                 try again later; ``retry_after`` says when if anyone knows
        ├── RateLimited           429/503 with Retry-After: postpone, do not count an attempt
        ├── Deferred              another export must finish first: postpone, no attempt used
        ├── ChecksumMismatch      a file arrived damaged: upload it again
        ├── DatabaseUnavailable   the database refused or dropped us (or is locked): wait
        ├── LocalIOError          the disk is full or a local path is not writable here
        └── StorageUnavailable    the files store refused or failed a read or write: wait

Foreign exceptions (httpx, SQLAlchemy) are translated at exactly one boundary each and chained
with ``raise ... from exc``. Messages carry domain facts (export id, deposition id, file, field)
and never the Zenodo token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ZenodoExportError(Exception):
    """Root of every error raised by zenodo-export."""


class ConfigError(ZenodoExportError):
    """A setting or the config file is missing or wrong."""


class Rejected(ZenodoExportError):
    """The input is wrong; retrying the same thing will fail the same way."""


class InvalidExport(Rejected):
    """An export's attributes failed validation; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class TooLarge(InvalidExport):
    """An upload holds more bytes than it may; nothing of it is kept."""


@dataclass(frozen=True)
class FieldError:
    """One field-level message from Zenodo's error body."""

    field: str
    messages: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{self.field}: {'; '.join(self.messages)}" if self.field else "; ".join(self.messages)
        )


class ZenodoRejected(Rejected):
    """Zenodo refused a request with a 4xx answer."""

    def __init__(self, message: str, *, status: int, errors: Sequence[FieldError] = ()) -> None:
        self.status = status
        self.errors = tuple(errors)
        details = "; ".join(str(e) for e in self.errors)
        super().__init__(f"{message} ({details})" if details else message)


class AuthRejected(ZenodoRejected):
    """Zenodo refused the token (missing, wrong, or lacking a scope)."""


class NotFound(ZenodoExportError):
    """The thing asked for does not exist."""


class ZenodoNotFound(NotFound):
    """Zenodo answered 404 for a deposition, record or file we expected."""

    def __init__(self, message: str, *, status: int = 404) -> None:
        self.status = status
        super().__init__(message)


class Conflict(ZenodoExportError):
    """The remote or stored state does not allow the operation."""


class LeaseLost(ZenodoExportError):
    """This worker's lease on a job ran out or was taken: the job must stop before its next step.

    Nothing is written for the job by the worker that raises it; the lease's new holder (or
    the next claim) carries on from what was stored.
    """


class WorkerLost(ZenodoExportError):
    """The workers running a job were lost (killed, out of memory) as often as it may run."""


class Transient(ZenodoExportError):
    """A temporary failure: the same call may succeed later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class RateLimited(Transient):
    """Zenodo asked us to slow down (429, or 503 with Retry-After)."""


class Deferred(Transient):
    """Not now: another export (an earlier version of the same name) must finish first."""


class ChecksumMismatch(Transient):
    """The checksum Zenodo computed differs from ours: the file arrived damaged."""


class DatabaseUnavailable(Transient):
    """The database refused or dropped the connection, or stayed locked: try again shortly."""


class LocalIOError(Transient):
    """Writing a local file failed (disk full, permission denied); names the path."""


class StorageUnavailable(Transient):
    """The files store refused or failed a read or write (full, permission, network)."""


class StagedFileMissing(Rejected):
    """A file staged for an export is not in the files store any more."""


class NotAllowed(Rejected):
    """A web request without a valid token or session (``signed_in`` False), or one whose
    role may not do what it asks (``signed_in`` True)."""

    def __init__(self, message: str, *, signed_in: bool) -> None:
        self.signed_in = signed_in
        super().__init__(message)


__all__ = [
    "AuthRejected",
    "ChecksumMismatch",
    "ConfigError",
    "Conflict",
    "DatabaseUnavailable",
    "Deferred",
    "FieldError",
    "InvalidExport",
    "LeaseLost",
    "LocalIOError",
    "NotAllowed",
    "NotFound",
    "RateLimited",
    "Rejected",
    "StagedFileMissing",
    "StorageUnavailable",
    "TooLarge",
    "Transient",
    "WorkerLost",
    "ZenodoExportError",
    "ZenodoNotFound",
    "ZenodoRejected",
]

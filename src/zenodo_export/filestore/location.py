"""Where the files store lives: the ``ZENODO_EXPORT_STORAGE`` setting, read through fsspec.

* unset: ``<data dir>/store``, a local directory (the embedded default);
* a path (``/mnt/shared/zenodo-export``) or ``file://`` URL: a directory, which every machine
  must mount at the same path for many machines to share it (NFS, SMB);
* ``s3://bucket/prefix`` (s3fs), ``gs://`` (gcsfs), ``az://`` (adlfs), ``sftp://host/path``
  (paramiko): object storage or a remote disk, once its fsspec package is installed
  (``pip install 'zenodo-export[s3]'``).

Credentials come from each library's usual sources (for S3: ``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, ``~/.aws``, an instance role; ``AWS_ENDPOINT_URL`` for an
S3-compatible server), never from the URL: a URL with ``user:password@`` or a query string is
refused, so that nothing secret is ever stored or shown. Schemes that cannot hold a store
every worker shares are refused too (``memory://``, read-only ``http://``, archives), as is
an object storage URL without a bucket. Opened stores keep no listing: other processes write
them all the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from zenodo_export.errors import ConfigError, StorageUnavailable

SETTING = "ZENODO_EXPORT_STORAGE"
"""The setting that chooses the store (named in every message about it)."""

EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure"}
"""The extra of zenodo-export that installs a scheme's fsspec package."""

NOT_SHARED = {
    "memory": "keeps files in one process's memory, where no worker could read them",
    **dict.fromkeys(
        ("http", "https", "github", "git", "zip", "tar", "libarchive", "reference", "data"),
        "cannot store files (it is read-only or an archive)",
    ),
}
"""Schemes fsspec knows that cannot be a files store shared by every worker, and why."""

BUCKETED = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl"})
"""Object storage schemes: their URL must name a bucket (or container)."""


@dataclass(frozen=True)
class Location:
    """An opened store location: its file system, its root path on it, and how it is shown."""

    fs: Any  # an fsspec AbstractFileSystem (imported when a store is opened: 0.1 s)
    root: str
    shown: str
    local: bool


def default_location(data_dir: Path) -> str:
    """Return the store of the embedded default: a folder of the data dir."""
    return str(data_dir.expanduser().absolute() / "store")


def _scheme(value: str) -> str:
    return value.partition("://")[0].lower() if "://" in value else ""


def location_problem(value: str) -> str | None:
    """Return why a store URL is refused before anything is opened (it holds a secret), or None."""
    if not _scheme(value) or _scheme(value) in ("file", "local"):
        return None
    parts = urlsplit(value)
    if "@" in parts.netloc or parts.query or parts.fragment:
        return (
            "a URL with user:password@, a query or a fragment is refused; credentials come "
            "from the storage library's usual sources (for S3: AWS_ACCESS_KEY_ID / "
            "AWS_SECRET_ACCESS_KEY or ~/.aws)"
        )
    return None


def _refuse_secrets(value: str) -> None:
    problem = location_problem(value)
    if problem is not None:
        raise ConfigError(f"setting {SETTING}: {problem}")


def _missing_package(scheme: str, exc: ImportError) -> ConfigError:
    extra = EXTRAS.get(scheme)
    hint = f"pip install 'zenodo-export[{extra}]'" if extra else "install its fsspec package"
    return ConfigError(f"setting {SETTING}: {scheme}:// needs a package not installed ({hint})")


def open_location(value: str | None, data_dir: Path) -> Location:
    """Open the store ``value`` names (default: under ``data_dir``), or raise ``ConfigError``."""
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    value = (value or "").strip() or default_location(data_dir)
    scheme = _scheme(value)
    if scheme in ("", "file", "local"):
        path = Path(value.partition("://")[2] if scheme else value).expanduser().absolute()
        if path.exists() and not path.is_dir():
            raise ConfigError(f"setting {SETTING}: {path} is not a folder")
        return Location(LocalFileSystem(auto_mkdir=True), str(path), str(path), local=True)
    _refuse_secrets(value)
    if scheme not in fsspec.available_protocols():
        raise ConfigError(f"setting {SETTING}: unknown scheme {scheme}:// in {value!r}")
    if scheme in NOT_SHARED:
        raise ConfigError(f"setting {SETTING}: {scheme}:// {NOT_SHARED[scheme]}")
    value = scheme + value[len(scheme) :]  # S3://bucket is s3://bucket
    if scheme in BUCKETED and not urlsplit(value).netloc:
        raise ConfigError(f"setting {SETTING}: {value!r} names no bucket ({scheme}://bucket/path)")
    try:
        fs, root = fsspec.core.url_to_fs(value)
    except ImportError as exc:
        raise _missing_package(scheme, exc) from None
    except OSError as exc:  # a file system that connects when opened (ftp://, sftp://)
        reason = exc.strerror or (str(exc).splitlines() or [type(exc).__name__])[0]
        raise StorageUnavailable(f"files store {value}: cannot be reached: {reason}") from None
    except Exception as exc:
        raise ConfigError(f"setting {SETTING}: {value!r}: {exc}") from None
    _no_listings_cache(fs)
    return Location(fs, str(root).rstrip("/"), value.rstrip("/"), local=False)


def _no_listings_cache(fs: Any) -> None:
    """Make ``fs`` ask the server every time, never a listing it cached.

    fsspec keeps one instance per URL in a process, and s3fs answers ``exists`` from the
    listings that instance saw: in a long-running worker a file another process staged
    after a listing would read as missing, and one another process removed as present (so
    staging the same content again would store nothing). Other processes write the store all
    the time, so no listing is kept.
    """
    from fsspec.dircache import DirCache

    if getattr(fs, "dircache", None) is not None:
        fs.dircache = DirCache(use_listings_cache=False)

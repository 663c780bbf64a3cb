"""A staged file: what an export keeps of each file it put into the files store.

Nothing here touches a store, so that an export's spec can hold these without importing one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class StagedFile:
    """A file of an export, staged: its name on Zenodo, where it was read, where it now is."""

    name: str
    source: str
    key: str
    size: int
    md5: str

    def to_data(self) -> dict[str, Any]:
        """Return the entry as JSON-ready data (kept in the export's ``data``)."""
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> StagedFile:
        """Rebuild an entry stored with ``to_data``."""
        return cls(**{name: data[name] for name in ("name", "source", "key", "size", "md5")})


def blob_key(sha256: str) -> str:
    """Return the key of content whose sha256 is ``sha256``."""
    return f"blobs/{sha256[:2]}/{sha256}"

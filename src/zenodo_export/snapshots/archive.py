"""A snapshot's part files, kept until the dump that holds them is safe.

The parts, the dump and the zip are written with ``zenodo_export.localfiles`` (atomically, and
the dump and zip only when there is room for them).
"""

from __future__ import annotations

import shutil
from pathlib import Path


def remove_parts(directory: Path) -> None:
    """Delete the part files once the dump that holds them is safe."""
    shutil.rmtree(directory, ignore_errors=True)

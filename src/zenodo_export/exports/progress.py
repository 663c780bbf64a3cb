"""How a running export reports progress: a protocol, and a progress that logs."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("zenodo_export.exports")


class Progress(Protocol):
    """Receives progress of an export (a rich progress bar, a log, or nothing)."""

    def step(self, export_id: int, message: str) -> None:
        """Say what the export is doing now."""

    def file_started(self, export_id: int, name: str, size: int) -> None:
        """A file upload begins."""

    def advance(self, export_id: int, name: str, sent: int) -> None:
        """``sent`` more bytes of ``name`` went out."""

    def file_done(self, export_id: int, name: str) -> None:
        """A file upload ended."""


class LogProgress:
    """Report progress to the log, one line per step and per file."""

    def step(self, export_id: int, message: str) -> None:
        """Log the step."""
        log.info("export %s: %s", export_id, message)

    def file_started(self, export_id: int, name: str, size: int) -> None:
        """Log the upload's start."""
        log.info("export %s: uploading %s (%d bytes)", export_id, name, size)

    def advance(self, export_id: int, name: str, sent: int) -> None:
        """Say nothing per chunk."""

    def file_done(self, export_id: int, name: str) -> None:
        """Log the upload's end."""
        log.info("export %s: uploaded %s", export_id, name)

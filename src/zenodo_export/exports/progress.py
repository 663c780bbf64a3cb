"""How a running export reports progress: a protocol, and a progress that logs."""

from __future__ import annotations

import logging
import time
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


LOG_EVERY_SECONDS = 10.0
"""How often a long upload logs how far it is (a log is read later, not watched)."""


class LogProgress:
    """Report progress to the log: one line per step and per file, and every
    ``LOG_EVERY_SECONDS`` how far a long upload is."""

    def __init__(self, every: float = LOG_EVERY_SECONDS) -> None:
        self.every = every
        self._uploads: dict[tuple[int, str], list[float]] = {}  # size, sent, last logged

    def step(self, export_id: int, message: str) -> None:
        """Log the step."""
        log.info("export %s: %s", export_id, message)

    def file_started(self, export_id: int, name: str, size: int) -> None:
        """Log the upload's start."""
        log.info("export %s: uploading %s (%d bytes)", export_id, name, size)
        self._uploads[(export_id, name)] = [float(size), 0.0, time.monotonic()]

    def advance(self, export_id: int, name: str, sent: int) -> None:
        """Log how far the upload is, at most every ``every`` seconds."""
        upload = self._uploads.get((export_id, name))
        if upload is None:
            return
        upload[1] += sent
        now = time.monotonic()
        if now - upload[2] >= self.every:
            upload[2] = now
            size, done = upload[0], upload[1]
            share = 100 * done / size if size else 100.0
            log.info(
                "export %s: %s %.0f%% (%.1f of %.1f MB)",
                export_id, name, share, done / 1e6, size / 1e6,
            )  # fmt: skip

    def file_done(self, export_id: int, name: str) -> None:
        """Log the upload's end."""
        self._uploads.pop((export_id, name), None)
        log.info("export %s: uploaded %s", export_id, name)

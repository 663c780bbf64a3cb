"""Every command module, imported once so that each registers its commands on ``app``."""

from __future__ import annotations

from zenodo_export.cli import alerts, check, demo, exports, janitor, sandbox, snapshot, worker  # noqa: F401

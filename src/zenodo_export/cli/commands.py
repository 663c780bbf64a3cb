"""Every command module, imported once so that each registers its commands on ``app``."""

from __future__ import annotations

from zenodo_export.cli import (  # noqa: F401
    alerts,
    check,
    demo,
    edit,
    exports,
    janitor,
    reports,
    sandbox,
    serve,
    snapshot,
    storage,
    tokens,
    worker,
)

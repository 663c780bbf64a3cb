"""The composition root of the job kinds: every feature's kinds in one registry.

The job runtime (``jobs/``) knows no kind; the edges (the worker command, ``export --wait``,
the tests) build the registry here, and each feature adds its own kinds from its own package.
"""

from __future__ import annotations

from typing import Any

from zenodo_export.jobs.registry import Registry
from zenodo_export.jobs.runner import JobRunner
from zenodo_export.settings import Settings
from zenodo_export.store import Store


def default_registry() -> Registry:
    """Return a registry holding the kinds of every feature of zenodo-export."""
    from zenodo_export import reports, snapshots
    from zenodo_export.exports import kinds as exports
    from zenodo_export.snapshots import scheduled

    registry = Registry()
    for register in (
        exports.register,
        snapshots.register,
        scheduled.register,
        reports.register,
    ):
        register(registry)
    return registry


def job_runner(store: Store, settings: Settings, **services: Any) -> JobRunner:
    """Return a runner of every feature's kinds; ``services`` reach the kinds (``progress``)."""
    return JobRunner(store, settings, default_registry(), services=services)

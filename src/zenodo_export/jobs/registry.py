"""The job kinds: what each does, and what it changes when one of its jobs fails for good.

The runtime knows no kind. Each feature registers its own from its own package
(``exports.register``, ``snapshots.register``, ...), and the composition root
(``zenodo_export.kinds.default_registry``) asks every feature to. Adding a kind touches no
file of ``jobs/``: write a ``perform`` function, wrap it in a ``JobKind``, and add it to the
registry (``docs/architecture.md`` shows it end to end).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from zenodo_export.errors import ConfigError

if TYPE_CHECKING:
    from zenodo_export.jobs.context import JobContext
    from zenodo_export.jobs.queue import ClaimedJob

Perform = Callable[["JobContext"], "bool | None"]
"""Run one job. Raise our errors on failure; return True when one part of a longer task is done
and the job should run again at once (no attempt used); anything else completes the job."""

Settle = Callable[[Session, "ClaimedJob", BaseException, str], None]
"""Record an attempt's failure in the caller's (fenced) transaction: the error, its message."""


@dataclass(frozen=True)
class JobKind:
    """One kind of job: its name, how to perform it, what its failures change."""

    name: str
    perform: Perform
    on_failed: Settle | None = None
    """The job failed for good: e.g. mark its export failed. Runs before the job is closed."""
    on_retry: Settle | None = None
    """An attempt failed and the job runs again later: e.g. note the error on its export."""
    needs_export: bool = False
    """A job of this kind without an export id is failed at once."""


class Registry:
    """The table of job kinds a worker can run, by name."""

    def __init__(self, kinds: tuple[JobKind, ...] = ()) -> None:
        self._kinds: dict[str, JobKind] = {}
        for kind in kinds:
            self.add(kind)

    def add(self, kind: JobKind) -> None:
        """Register ``kind``; a second kind of the same name is a programming error."""
        if kind.name in self._kinds:
            raise ConfigError(f"job kind {kind.name!r} is registered twice")
        self._kinds[kind.name] = kind

    def get(self, name: str) -> JobKind | None:
        """Return the kind called ``name``, if registered."""
        return self._kinds.get(name)

    def names(self) -> tuple[str, ...]:
        """Return the registered kinds' names, sorted."""
        return tuple(sorted(self._kinds))

    def __iter__(self) -> Iterator[JobKind]:
        return iter(self._kinds.values())

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

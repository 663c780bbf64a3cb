"""What every command builds at the edge: settings, the store, and how it prints."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Column

from zenodo_export.errors import ConfigError
from zenodo_export.settings import Settings, load_settings
from zenodo_export.store import Store

console = Console()
"""Where human-readable output goes."""

err_console = Console(stderr=True)
"""Where warnings and progress go, so that stdout stays clean for --json."""


def settings() -> Settings:
    """Build the settings from the environment (a bad value is a one-line ConfigError).

    Only ``cli/worker.py`` still calls this; the other commands call ``load_settings``
    directly, so that their variable can be named ``settings``.
    """
    return load_settings()


def require_token(settings: Settings, purpose: str) -> None:
    """Stop with a one-line error when no Zenodo token is set."""
    if settings.zenodo_token is None:
        raise ConfigError(f"ZENODO_TOKEN is not set (ZENODO_KEY is read too): {purpose}")


@contextmanager
def opened_store(settings: Settings, *, migrate: bool = True) -> Iterator[Store]:
    """Open (and, unless told not to, migrate) the configured database for a command."""
    store = Store.open(settings.resolved_database_url, migrate=migrate)
    try:
        yield store
    finally:
        store.dispose()


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def whole(header: str, values: list[str]) -> Column:
    """A table column whose values are never cut: ids, UUIDs, URLs a person copies."""
    width = max([len(header), *(len(value) for value in values)])
    return Column(header, no_wrap=True, min_width=width)


def folded(header: str) -> Column:
    """A table column whose long values wrap onto more lines (names, messages)."""
    return Column(header, overflow="fold")

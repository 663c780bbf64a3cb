"""What every command builds at the edge: settings, the store, and how it prints."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Column, Table

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


PLAIN_WIDTH = 99
"""Most columns of prose, even on a wider terminal: every line stays under 100."""

FOLDED_MIN = 20
"""Below this many columns for each folded column, rows are printed stacked instead."""


def say(text: str, *, err: bool = False, markup: bool = False, fold: bool = False) -> None:
    """Print prose wrapped at spaces to the terminal (99 columns when not on one).

    A URL, a path or an id is never broken: a word too long for what is left of a line moves
    whole to the next one, which is indented two columns more than the first. With
    ``markup``, rich's ``[style]`` tags are styles (and count as width, erring short). With
    ``fold``, a word too long for a whole line is cut across lines (names, never ids).
    """
    target = err_console if err else console
    width = min(target.width, PLAIN_WIDTH)
    for paragraph in text.splitlines() or [""]:
        lead = paragraph[: len(paragraph) - len(paragraph.lstrip())]
        lines = textwrap.wrap(
            paragraph, width=width, subsequent_indent=lead + "  ", break_long_words=fold,
            break_on_hyphens=False,
        ) or [""]  # fmt: skip
        for line in lines:
            target.print(line, highlight=False, soft_wrap=True, markup=markup)


def print_rows(kept: dict[str, list[str]], folded_columns: dict[str, list[str]]) -> None:
    """Print rows as a table: ``kept`` columns whole (ids, UUIDs, URLs), ``folded_columns``
    wrapped; when the terminal leaves too little room to fold them, each row is printed
    stacked instead: its kept values on one line, each folded value below it, labelled."""
    need = sum(max([len(h), *map(len, values)]) + 3 for h, values in kept.items()) + 1
    need += 3 * len(folded_columns)
    room = console.width - need
    rows = len(next(iter(kept.values()), []))
    if not folded_columns or room >= FOLDED_MIN * len(folded_columns):
        table = Table(
            *(whole(header, values) for header, values in kept.items()),
            *(folded(header) for header in folded_columns),
        )
        for i in range(rows):
            cells = [v[i] for v in kept.values()] + [v[i] for v in folded_columns.values()]
            table.add_row(*cells)
        console.print(table)
        return
    for i in range(rows):
        say("  ".join(values[i] for values in kept.values() if values[i]))
        for header, values in folded_columns.items():
            if values[i]:
                say(f"  {header}: {values[i]}", fold=True)

"""Command-line entry point: registers the commands and maps errors to exit codes, once."""

from __future__ import annotations

import sys

from zenodo_export.cli.app import app
from zenodo_export.errors import (
    ConfigError,
    Conflict,
    NotFound,
    Rejected,
    Transient,
    ZenodoExportError,
)

EXIT_CODES: tuple[tuple[type[ZenodoExportError], int], ...] = (
    (ConfigError, 3),
    (Rejected, 4),
    (NotFound, 5),
    (Conflict, 6),
    (Transient, 7),
    (ZenodoExportError, 1),
)
"""Exit code per branch of the exception tree (2 is Click's usage error)."""


def exit_code_for(exc: ZenodoExportError) -> int:
    """Return the exit code for one of our errors."""
    return next(code for kind, code in EXIT_CODES if isinstance(exc, kind))


def _register_commands() -> None:
    """Import the command modules so that they attach their commands to ``app``."""
    from zenodo_export.cli import commands  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; our errors print one line on stderr and exit non-zero, no traceback.

    Usage errors are Typer's own (one message, exit code 2).
    """
    _register_commands()
    try:
        app(args=argv)
    except ZenodoExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exit_code_for(exc))
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["app", "exit_code_for", "main"]

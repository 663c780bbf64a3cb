"""Command-line entry point: registers the commands and maps errors to exit codes, once."""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

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
    """Run the CLI; every error prints one line on stderr and exits non-zero, no traceback.

    A usage error (an unknown option, a missing argument, a bad choice) exits 2, its line
    saying which ``--help`` tells more.
    """
    _register_commands()
    try:
        code = app(args=argv, prog_name="zenodo-export", standalone_mode=False)
    except ZenodoExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exit_code_for(exc))
    except TyperException as exc:  # Click's usage errors, as Typer vendors them
        context = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
            print(context.get_help())
            sys.exit(2)
        else:
            print(f"error: {usage_line(exc)}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def usage_line(exc: TyperException) -> str:
    """One line for a usage error: Click's message and the command whose --help explains."""
    message = " ".join(exc.format_message().replace("Value error, ", "").split())
    context = getattr(exc, "ctx", None)
    where = context.command_path if context is not None else "zenodo-export"
    return f"{message} (`{where} --help` shows the usage)"


__all__ = ["app", "exit_code_for", "main"]

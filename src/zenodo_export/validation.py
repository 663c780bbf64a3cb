"""Pydantic's validation errors as one line: where the first problem is, and what it is.

Every edge that validates outside input (the settings, an export's attributes, the config
file, a snapshot's options) reports only the first problem, on one line, naming its field.
"""

from __future__ import annotations

from pydantic import ValidationError

_PREFIXES = ("Value error, ", "Assertion failed, ")


def first_error(exc: ValidationError) -> tuple[str, str]:
    """Return the dotted location of the first problem of ``exc`` and its one-line message."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"]
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    return where, " ".join(message.split())

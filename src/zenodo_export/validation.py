"""Pydantic's validation errors as one line: where the first problem is, and what it is.

Every edge that validates outside input (the settings, an export's attributes, the config
file, a snapshot's options) reports only the first problem, on one line, naming its field.
"""

from __future__ import annotations

import contextlib

from pydantic import ValidationError

_PREFIXES = ("Value error, ", "Assertion failed, ")

PLAIN: dict[str, str] = {
    "missing": "is required",
    "too_short": "needs at least {min_length} value(s)",
    "too_long": "takes at most {max_length} value(s)",
    "string_too_short": "must not be empty",
    "string_too_long": "takes at most {max_length} characters",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "int_parsing": "must be a whole number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be true or false",
    "date_from_datetime_parsing": "must be a date, YYYY-MM-DD",
    "date_parsing": "must be a date, YYYY-MM-DD",
    "extra_forbidden": "is not a known field",
}
"""Pydantic's error types in plain words (its own wording speaks of tuples and inputs)."""


def first_error(exc: ValidationError) -> tuple[str, str]:
    """Return the dotted location of the first problem of ``exc`` and its one-line message."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"]
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    plain = PLAIN.get(first["type"])
    if plain is not None:
        with contextlib.suppress(KeyError, IndexError):  # unknown context: pydantic's words
            message = plain.format(**(first.get("ctx") or {}))
    return where, " ".join(message.split())

"""Turn Zenodo's answers into our exception tree: pure functions, no I/O.

Zenodo's error bodies come in several shapes (``errors[].messages`` today, ``errors[].message``
in the old docs, a bare string in very old ones, nginx HTML from the gateway), so every body
is parsed defensively. Status codes decide the branch:

* 429, and 503 with ``Retry-After``         -> ``RateLimited`` (postpone, no attempt used)
* other 5xx, 408                            -> ``Transient``
* 401, 403                                  -> ``AuthRejected`` with a scope hint
* 404, 410                                  -> ``ZenodoNotFound``
* other 4xx                                 -> ``ZenodoRejected`` with the field messages
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from zenodo_export.errors import (
    AuthRejected,
    FieldError,
    RateLimited,
    Transient,
    ZenodoExportError,
    ZenodoNotFound,
    ZenodoRejected,
)
from zenodo_export.http_delays import retry_after_seconds

SCOPE_HINT = (
    "check ZENODO_TOKEN: it must be a valid token for this Zenodo instance with the "
    "deposit:write and deposit:actions scopes (the sandbox needs its own token)"
)
"""What to tell a user whose token was refused."""


def error_for(
    status: int,
    *,
    what: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> ZenodoExportError:
    """Return the exception for an unsuccessful answer to the request described by ``what``."""
    message, errors = parse_error_body(body)
    text = f"Zenodo answered {status} while {what}"
    if message:
        text = f"{text}: {message}"
    if status == 429 or (status == 503 and "retry-after" in _lower(headers)):
        return RateLimited(text, retry_after=retry_after_seconds(headers, now=now))
    if status >= 500 or status == 408:
        return Transient(text, retry_after=retry_after_seconds(headers, now=now))
    if status in (401, 403):
        return AuthRejected(f"{text}; {SCOPE_HINT}", status=status, errors=errors)
    if status in (404, 410):
        return ZenodoNotFound(text, status=status)
    return ZenodoRejected(text, status=status, errors=errors)


def parse_error_body(body: bytes) -> tuple[str, tuple[FieldError, ...]]:
    """Return the message and field errors of an error body, whatever its shape."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return _html_title(body), ()
    if not isinstance(data, dict):
        return (str(data)[:200] if data is not None else ""), ()
    message = str(data.get("message") or data.get("error") or "")
    return message, _field_errors(data.get("errors"))


def _field_errors(raw: Any) -> tuple[FieldError, ...]:
    if isinstance(raw, str):
        return (FieldError("", (raw,)),)
    if not isinstance(raw, list):
        return ()
    found = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        messages: Any = item.get("messages", item.get("message", ()))
        if isinstance(messages, str) or not isinstance(messages, list | tuple):
            messages = [messages]
        found.append(FieldError(str(item.get("field") or ""), tuple(map(str, messages))))
    return tuple(found)


def _html_title(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    match = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if match:
        return match.group(1).strip()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()[:200]


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}

"""Secrets of a crawled API: refused in its URL, passed in headers read from the environment.

A snapshot's URL is published (the record's title and description, the README in the zip)
and stored (the database, ``--json``), so it may carry no credential: userinfo
(``user:pass@``) or a query parameter named like one (``CREDENTIAL_PARAMETERS``) is refused
with a message saying how to pass it instead. A credential goes in a header whose value
names an environment variable (``headers = { Authorization = "env:MY_API_TOKEN" }``): only
the variable's name is stored; its value is read when a page is fetched, and never shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from zenodo_export.errors import ConfigError
from zenodo_export.redact import MASK

CREDENTIAL_PARAMETERS = frozenset(
    {
        "api_key",
        "apikey",
        "key",
        "token",
        "access_token",
        "secret",
        "password",
        "auth",
        "signature",
        "sig",
    }
)
"""Query parameters taken for credentials (compared case-insensitively, ``-`` as ``_``)."""

ENV_PREFIX = "env:"
"""How a header's value names the environment variable it is read from."""

HEADER_EXAMPLE = 'headers = { Authorization = "env:MY_API_TOKEN" }'
"""The config file's way to send a credential, as error messages show it."""

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def is_credential(parameter: str) -> bool:
    """Tell whether a query parameter's name looks like a credential's."""
    return parameter.strip().lower().replace("-", "_") in CREDENTIAL_PARAMETERS


def credentials_in(url: str) -> list[str]:
    """Return what in ``url`` looks like a credential: ``userinfo`` and parameter names."""
    parts = urlsplit(url)
    found = ["userinfo"] if "@" in parts.netloc else []
    names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
    return found + sorted({name for name in names if is_credential(name)})


def public_url(url: str) -> str:
    """Return ``url`` as it may be shown: no userinfo, credential parameters' values ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = "&".join(_masked_pair(pair) for pair in parts.query.split("&") if parts.query and pair)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _masked_pair(pair: str) -> str:
    name, equals, _ = pair.partition("=")
    return f"{name}={MASK}" if is_credential(name) else pair if equals else name


def url_problem(url: str) -> str | None:
    """Return why ``url`` may not be a snapshot's (it carries a credential), or None."""
    found = credentials_in(url)
    if not found:
        return None
    what = ", ".join(f"'{name}'" if name != "userinfo" else "user:password@" for name in found)
    return (
        f"{public_url(url)} carries a credential ({what}), which would be published and "
        f"stored; send it in a header read from an environment variable instead: "
        f"{HEADER_EXAMPLE} in the config file entry, or "
        f"--header 'Authorization=env:MY_API_TOKEN'"
    )


def check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Refuse a header name that is not a token or a value that is not ``env:VARIABLE``."""
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"header {name!r} is not a valid header name")
        variable = value.removeprefix(ENV_PREFIX)
        if not value.startswith(ENV_PREFIX) or not _ENV_NAME.match(variable):
            raise ValueError(
                f"header {name}: give the environment variable that holds its value, "
                f'as "env:VARIABLE" (the value itself would be stored): {HEADER_EXAMPLE}'
            )
    return dict(headers)


def header_values(
    headers: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the headers to send, each value read now from its environment variable.

    A variable that is not set (or empty) is a ``ConfigError`` naming the header and variable.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for name, reference in headers.items():
        variable = reference.removeprefix(ENV_PREFIX)
        value = environ.get(variable, "")
        if not value:
            raise ConfigError(f"snapshot header {name}: environment variable {variable} is not set")
        values[name] = value
    return values

"""Keeping secrets out of text: the Zenodo token and database passwords become ``***``.

One place for every scrubbing: alerts, error messages, log records. A secret is replaced in
every form it may take in text (as is, percent-encoded as in a URL, escaped as in a repr or
in JSON), longest forms first, so a secret that contains another is never left half visible.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
"""What a secret is replaced with."""


def forms(secret: str) -> set[str]:
    """Return the ways ``secret`` may be written in text: as is, in a URL, a repr, or JSON."""
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        repr(secret)[1:-1],
        json.dumps(secret)[1:-1],
    }


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every non-blank secret in ``text``, in each of its forms, by ``***``."""
    every = {form for secret in secrets if secret and secret.strip() for form in forms(secret)}
    for form in sorted(every, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def mask_url(raw: str) -> str:
    """Hide the password of every URL in ``raw``, even one that does not parse."""
    return re.sub(r"(//[^/@:\s]*:)[^/@\s]*@", rf"\1{MASK}@", raw)

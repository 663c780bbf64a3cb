"""Zenodo's answers become the right branch of our exception tree, whatever the body's shape."""

from __future__ import annotations

import json

import pytest

from zenodo_export.errors import (
    AuthRejected,
    RateLimited,
    Transient,
    ZenodoNotFound,
    ZenodoRejected,
)
from zenodo_export.http_delays import retry_after_seconds
from zenodo_export.zenodo.responses import error_for, parse_error_body

NGINX_504 = (
    b"<html><head><title>504 Gateway Time-out</title></head><body><center>"
    b"<h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>"
)


def test_todays_validation_body_gives_field_messages() -> None:
    """Today's `errors[].messages` list is read, field by field."""
    body = json.dumps(
        {
            "status": 400,
            "message": "A validation error occurred.",
            "errors": [{"field": "files.enabled", "messages": ["Please remove all files first."]}],
        }
    ).encode()
    exc = error_for(400, what="opening a new version", headers={}, body=body)
    assert isinstance(exc, ZenodoRejected)
    assert exc.errors[0].field == "files.enabled"
    assert "Please remove all files first." in str(exc)


def test_old_docs_single_message_and_string_errors_are_read() -> None:
    """The old docs' `errors[].message` and a bare-string `errors` are read too."""
    old = {
        "message": "Validation error.",
        "errors": [{"field": "metadata.title", "message": "Required."}],
    }
    assert parse_error_body(json.dumps(old).encode())[1][0].messages == ("Required.",)
    ancient = {"message": "Bad", "errors": "the release has no tag"}
    assert parse_error_body(json.dumps(ancient).encode())[1][0].messages == (
        "the release has no tag",
    )


def test_gateway_html_is_transient_with_its_title() -> None:
    """A 504 from nginx (HTML, not JSON) is transient, and says what the gateway said."""
    exc = error_for(504, what="publishing deposition 7", headers={}, body=NGINX_504)
    assert type(exc) is Transient
    assert "504 Gateway Time-out" in str(exc) and "deposition 7" in str(exc)


def test_429_is_rate_limited_with_retry_after() -> None:
    """A 429 postpones by its Retry-After."""
    exc = error_for(429, what="listing", headers={"Retry-After": "39"}, body=b"100 per 1 minute")
    assert isinstance(exc, RateLimited) and exc.retry_after == 39


def test_503_with_retry_after_is_rate_limited_but_plain_503_is_transient() -> None:
    """503 is a rate limit only when it says when to come back."""
    assert isinstance(error_for(503, what="x", headers={"retry-after": "5"}, body=b""), RateLimited)
    plain = error_for(503, what="x", headers={}, body=b"")
    assert isinstance(plain, Transient) and not isinstance(plain, RateLimited)


def test_ratelimit_reset_is_used_when_no_retry_after() -> None:
    """X-RateLimit-Reset (epoch seconds) gives the wait when the budget is spent."""
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1030"}
    assert retry_after_seconds(headers, now=1000.0) == 30.0
    assert (
        retry_after_seconds({"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "1030"}, now=1000.0)
        is None
    )


def test_retry_after_as_http_date() -> None:
    """Retry-After may be an HTTP date."""
    headers = {"Retry-After": "Thu, 01 Jan 1970 00:01:40 GMT"}
    assert retry_after_seconds(headers, now=40.0) == 60.0


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_hint_at_scopes(status: int) -> None:
    """A refused token says which scopes a token needs."""
    exc = error_for(status, what="publishing deposition 3", headers={}, body=b"{}")
    assert isinstance(exc, AuthRejected) and "deposit:actions" in str(exc)


def test_404_is_not_found() -> None:
    """A 404 is NotFound, naming what was asked."""
    exc = error_for(404, what="reading deposition 9", headers={}, body=b'{"message":"gone"}')
    assert isinstance(exc, ZenodoNotFound) and "deposition 9" in str(exc)

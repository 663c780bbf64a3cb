"""Who is asking: API tokens (``Authorization: Bearer``), dashboard sessions, CSRF.

* The API takes ``Authorization: Bearer <token>`` on every request; no cookie is ever read
  there, so a cross-site page cannot act through it.
* The dashboard signs in with a token once: the session cookie (signed, ``HttpOnly``,
  ``SameSite=Lax``, ``Secure`` unless served on loopback, expiring after
  ``ZENODO_EXPORT_WEB_SESSION_HOURS``) keeps the token's digest, never the token, and every
  request checks that the token still exists, so revoking it signs its sessions out.
* Every dashboard form carries the session's CSRF token, and a POST without it, or from
  another origin, is refused.
* ``viewer`` sees everything; ``admin`` also acts (retry, cancel, delete, resolve, start).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from zenodo_export.errors import NotAllowed
from zenodo_export.store.models import Role
from zenodo_export.store.tokens import authenticate, digest, role_by_digest
from zenodo_export.web.context import Db

SESSION_COOKIE = "zenodo_export_session"


@dataclass(frozen=True)
class Caller:
    """A signed-in token: its name and role."""

    name: str
    role: Role

    @property
    def is_admin(self) -> bool:
        """Say whether this caller may act, not only look."""
        return self.role == "admin"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def api_caller(request: Request, db: Db) -> Caller:
    """The caller of an API request, from its bearer token; 401 without a valid one."""
    token = _bearer(request)
    if token is None:
        raise NotAllowed(
            "sign in: send 'Authorization: Bearer <token>' "
            "(`zenodo-export token create NAME` makes one)",
            signed_in=False,
        )
    found = authenticate(db, token)
    if found is None:
        raise NotAllowed("the bearer token is not valid (revoked, or never made)", signed_in=False)
    return Caller(*found)


def api_admin(caller: Annotated[Caller, Depends(api_caller)]) -> Caller:
    """An API caller with the admin role; 403 for a viewer."""
    if not caller.is_admin:
        raise NotAllowed(
            f"token {caller.name!r} is a viewer: this needs an admin token", signed_in=True
        )
    return caller


Viewer = Annotated[Caller, Depends(api_caller)]
Admin = Annotated[Caller, Depends(api_admin)]


def sign_in(request: Request, db: Session, token: str) -> Caller | None:
    """Start a dashboard session for ``token``; None (and no session) when it is not valid."""
    found = authenticate(db, token.strip())
    if found is None:
        return None
    request.session.clear()
    request.session.update(
        {"token": digest(token.strip()), "name": found[0], "csrf": secrets.token_urlsafe(32)}
    )
    return Caller(*found)


def sign_out(request: Request) -> None:
    """End the dashboard session."""
    request.session.clear()


def session_caller(request: Request, db: Session) -> Caller | None:
    """The dashboard's signed-in caller, or None (signed out, expired, forged or revoked)."""
    token_digest = request.session.get("token")
    if not isinstance(token_digest, str):
        return None
    found = role_by_digest(db, token_digest)
    if found is None:
        request.session.clear()  # the token was revoked: so is every session made with it
        return None
    return Caller(*found)


def stale_session(request: Request) -> bool:
    """Say whether the browser sent a session cookie that is not (or no longer) valid."""
    return SESSION_COOKIE in request.cookies and not request.session.get("token")


def csrf_token(request: Request) -> str:
    """The CSRF token forms of this session carry (one is made for a visitor signing in)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    """Refuse a form POST without this session's CSRF token or from another origin (403)."""
    expected = request.session.get("csrf")
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise NotAllowed(f"a form from another site ({origin[:100]}) is refused", signed_in=True)
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise NotAllowed(
            "the form is missing its CSRF token or is from an old session: reload the page "
            "and send it again",
            signed_in=True,
        )

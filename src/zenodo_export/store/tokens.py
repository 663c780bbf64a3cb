"""API tokens of the web application: created once, kept as SHA-256 digests, revoked by name.

A token is 32 random bytes (``zx_`` + URL-safe base64), so a plain digest is enough: nobody
can guess one, and the table alone (a backup, a leak) gives no token back. ``last_used_at`` is
written at most once a minute per token, so that reading pages does not write on every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from zenodo_export.clock import utcnow
from zenodo_export.errors import Conflict, NotFound, Rejected
from zenodo_export.store.models import ROLES, ApiToken, Role

PREFIX = "zx_"
"""Every token starts so: a secret scanner, or a person, can tell what it is."""

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""What a token's name may be: a label for people, shown in lists and logs."""

USED_EVERY = dt.timedelta(minutes=1)
"""``last_used_at`` is written again only when older than this."""


def digest(token: str) -> str:
    """Return the stored form of ``token``."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(session: Session, name: str, role: str) -> str:
    """Store a new token named ``name`` with ``role``; return the token (shown once)."""
    if not NAME.fullmatch(name):
        raise Rejected(f"token name {name[:70]!r} must be 1 to 64 letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise Rejected(f"role {role[:20]!r} must be one of {', '.join(ROLES)}")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise Conflict(f"a token named {name!r} exists already: revoke it or pick another name")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, role=role, digest=digest(token)))
    session.flush()
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    """Return every token (names, roles and dates; never a token), oldest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)).all())


def revoke_token(session: Session, name: str) -> None:
    """Delete the token named ``name``: requests and sessions using it are refused at once."""
    deleted = session.execute(delete(ApiToken).where(ApiToken.name == name).returning(ApiToken.id))
    if not deleted.all():
        raise NotFound(f"no token is named {name[:70]!r} (`zenodo-export token list` lists them)")


def authenticate(session: Session, token: str) -> tuple[str, Role] | None:
    """Return the name and role of a valid ``token``, or None; note when it was used."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.digest == digest(token))).first()
    if row is None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > USED_EVERY:
        session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return row.name, row.role


def role_by_digest(session: Session, token_digest: str) -> tuple[str, Role] | None:
    """Return the name and role of the token with this digest, or None once it is revoked."""
    row = session.execute(
        select(ApiToken.name, ApiToken.role).where(ApiToken.digest == token_digest)
    ).first()
    return None if row is None else (row.name, row.role)


def any_token(session: Session) -> bool:
    """Say whether any token exists (``serve`` refuses a public address without one)."""
    return session.scalar(select(ApiToken.id).limit(1)) is not None

"""The installation: the one row that names this database, so its drafts can be told apart.

Two installations (staging and production, say) may share one Zenodo token. Every draft carries
the key of the installation that made it (``exports/metadata.py``), and the janitor deletes
only drafts of its own installation.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from zenodo_export.errors import ConfigError
from zenodo_export.store.models import Installation


def installation_key(session: Session) -> str:
    """Return this installation's key (made by the migration that created the table)."""
    key = session.scalar(select(Installation.key).where(Installation.id == 1))
    if key is None:
        raise ConfigError("the database has no installation key; run its migrations again")
    return key


def session_secret(session: Session) -> str:
    """Return the secret that signs dashboard sessions, made on first use.

    Every ``serve`` process of the installation reads the same one, so a sign-in holds on any
    of them; two processes starting at once agree on whichever was written first.
    """
    made = secrets.token_hex(32)
    session.execute(
        update(Installation)
        .where(Installation.id == 1, Installation.session_secret.is_(None))
        .values(session_secret=made)
    )
    secret = session.scalar(select(Installation.session_secret).where(Installation.id == 1))
    if secret is None:
        raise ConfigError("the database has no installation row; run its migrations again")
    return secret

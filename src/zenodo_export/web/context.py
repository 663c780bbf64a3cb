"""What every request handler needs: the settings and the store, shared by the whole app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from zenodo_export.settings import Settings
from zenodo_export.store import Store


@dataclass(frozen=True)
class Web:
    """The app's shared state (``app.state.web``)."""

    settings: Settings
    store: Store
    secure_cookies: bool


def web(request: Request) -> Web:
    """The app's shared state."""
    state: Web = request.app.state.web
    return state


def session(request: Request) -> Iterator[Session]:
    """A database transaction for one request: committed at its end, rolled back on error."""
    with web(request).store.transaction() as db:
        yield db


WebState = Annotated[Web, Depends(web)]
Db = Annotated[Session, Depends(session)]

"""Dependencies the API's handlers share beyond ``web/access.py`` and ``web/context.py``.

An action (create, retry, cancel...) calls the same service functions as the CLI, and each
opens its own transaction. On SQLite a transaction holds the one write lock until it ends, so
an action's caller is checked in a transaction of its own that is over before the action
starts (``Acting``), never in the request's ``Db`` session.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from zenodo_export.web.access import Caller, api_admin, api_caller
from zenodo_export.web.api.models import MAX_ID
from zenodo_export.web.context import WebState


def acting_admin(request: Request, web: WebState) -> Caller:
    """The API caller, who must be an admin (401 without a token, 403 for a viewer)."""
    with web.store.transaction() as session:
        return api_admin(api_caller(request, session))


Acting = Annotated[Caller, Depends(acting_admin)]
"""An admin about to act; no transaction of the request is open."""

ExportId = Annotated[int, Path(ge=1, le=MAX_ID, description="The export's id.")]

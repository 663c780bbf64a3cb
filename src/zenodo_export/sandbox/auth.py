"""Who is calling: the token from ``Authorization: Bearer`` or ``?access_token=``.

Zenodo answers 403 today for a missing or unknown token (its tests note "should be 401"),
for a token lacking the scope an endpoint needs, and for someone else's deposition.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers, QueryParams
from starlette.types import Scope

from zenodo_export.sandbox.config import SandboxConfig
from zenodo_export.sandbox.errors import forbidden
from zenodo_export.sandbox.storage import Deposition, Storage

WRITE = "deposit:write"
"""Scope to create, change and upload (and read depositions)."""

ACTIONS = "deposit:actions"
"""Scope to publish, edit and discard."""


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: its token, user id and scopes."""

    token: str
    user_id: int
    scopes: frozenset[str]


def token_from_scope(scope: Scope) -> str | None:
    """Return the token of a request: the Bearer header first, then ``access_token``."""
    authorization = Headers(scope=scope).get("authorization", "")
    kind, _, value = authorization.partition(" ")
    if kind.lower() == "bearer" and value.strip():
        return value.strip()
    token = QueryParams(scope.get("query_string", b"")).get("access_token")
    return token or None


def authenticate(
    scope: Scope, config: SandboxConfig, storage: Storage, *, needs: str = WRITE
) -> Caller:
    """Return the caller, or raise 403 when the token is missing, unknown or lacks ``needs``."""
    token = token_from_scope(scope)
    spec = config.token_spec(token) if token else None
    if token is None or spec is None or needs not in spec.scopes:
        raise forbidden()
    return Caller(token, storage.user_id(token), spec.scopes)


def check_owner(caller: Caller, dep: Deposition) -> None:
    """Raise 403 unless the caller owns the deposition."""
    if dep.owner != caller.user_id:
        raise forbidden()

"""Admin endpoints under ``/_sandbox/`` (no API token, no rate limit, no faults) and stats.

Guarded as a good neighbour: a POST must declare ``application/json`` (415 otherwise), so a
web page cannot change the sandbox with a cross-site form post (``text/plain`` and form
types are what a browser sends without asking first; DELETE always asks first). With
``admin_token`` set, every endpoint but ``health`` needs ``Authorization: Bearer <it>``.
Bodies are capped at ``max_json_bytes``.

* ``GET /_sandbox/health``: ``{"status": "ok"}`` once serving.
* ``GET|POST|DELETE /_sandbox/faults``, ``DELETE /_sandbox/faults/{id}``: fault rules.
* ``GET|POST /_sandbox/settings``: list lag, rate limits, size limits, bucket delete answer.
* ``GET /_sandbox/depositions``: every deposition of every user, with state, DOI and files.
* ``GET|DELETE /_sandbox/stats``: answers by status code, 429s sent, faults applied.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import fields
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zenodo_export.errors import ConfigError
from zenodo_export.sandbox import serializers
from zenodo_export.sandbox.config import SandboxConfig
from zenodo_export.sandbox.errors import ApiError, not_found
from zenodo_export.sandbox.faults import ADMIN_PREFIX, rule_from_json
from zenodo_export.sandbox.web import capped_body, json_response, require_json, sandbox_of

RUNTIME_SETTINGS = (
    "list_lag_seconds", "rate_limits", "max_files", "max_record_bytes", "max_file_bytes",
    "multipart_max_bytes", "max_json_bytes", "body_idle_timeout", "bucket_delete_500",
)  # fmt: skip
"""Settings ``POST /_sandbox/settings`` may change while running."""

ADMIN_TOKEN_NEEDED = "This admin endpoint needs the sandbox's admin token (Bearer)."
"""403 text for an admin call without the right ``--admin-token``."""

Handler = Callable[[Request], Awaitable[Response]]


class Stats:
    """Counts of answers by status code, outside the admin endpoints."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_status: Counter[int] = Counter()

    def count(self, status: int) -> None:
        """Count one answer."""
        with self._lock:
            self.by_status[status] += 1

    def as_json(self) -> dict[str, Any]:
        """Return the counts as JSON."""
        with self._lock:
            by_status = {str(k): v for k, v in sorted(self.by_status.items())}
            return {
                "requests": sum(self.by_status.values()),
                "by_status": by_status,
                "rate_limited": self.by_status[429],
            }

    def reset(self) -> None:
        """Start counting afresh."""
        with self._lock:
            self.by_status.clear()


class StatsMiddleware:
    """Count every answer's status (faulted ones included) outside ``/_sandbox/``."""

    def __init__(self, app: ASGIApp, stats: Stats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.stats.count(message["status"])
            await send(message)

        await self.app(scope, receive, counting_send)


def settings_json(config: SandboxConfig) -> dict[str, Any]:
    """Return the runtime settings as JSON."""
    values = {f.name: getattr(config, f.name) for f in fields(config) if f.name in RUNTIME_SETTINGS}
    values["rate_limits"] = [str(r) for r in config.rate_limits]
    return values


async def _json(request: Request) -> Any:
    require_json(request)
    try:
        return json.loads(await capped_body(request))
    except (ValueError, RecursionError):
        raise ApiError(400, "The body is not JSON.") from None


def check_admin_token(request: Request) -> None:
    """Answer 403 unless the request carries the admin token (when the sandbox has one)."""
    expected = sandbox_of(request).config.admin_token
    if expected is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), expected):
        raise ApiError(403, ADMIN_TOKEN_NEEDED)


def guarded(handler: Handler) -> Handler:
    """Wrap an admin handler so that it checks the admin token first."""

    @wraps(handler)
    async def wrapper(request: Request) -> Response:
        check_admin_token(request)
        return await handler(request)

    return wrapper


async def health(request: Request) -> Response:
    """Say the sandbox is serving."""
    return json_response({"status": "ok"})


async def list_faults(request: Request) -> Response:
    """List the fault rules with their hits."""
    return json_response({"faults": [r.to_json() for r in sandbox_of(request).faults.rules()]})


async def add_faults(request: Request) -> Response:
    """Add one rule (a JSON object) or several (a JSON array); 201 with the rules added."""
    body = await _json(request)
    items = body if isinstance(body, list) else [body]
    try:
        rules = [rule_from_json(item) for item in items]
    except (ValueError, TypeError, AttributeError) as exc:
        raise ApiError(400, f"Invalid fault rule: {exc}") from None
    book = sandbox_of(request).faults
    return json_response({"faults": [book.add(r).to_json() for r in rules]}, 201)


async def clear_faults(request: Request) -> Response:
    """Remove every rule, or the one named in the path."""
    rule_id = request.path_params.get("rule_id")
    removed = sandbox_of(request).faults.remove(int(rule_id) if rule_id is not None else None)
    if rule_id is not None and not removed:
        raise not_found("No such fault rule.")
    return Response(status_code=204)


async def get_settings(request: Request) -> Response:
    """Show the runtime settings."""
    return json_response(settings_json(sandbox_of(request).config))


async def change_settings(request: Request) -> Response:
    """Change runtime settings (flag syntax accepted: ``"rate_limits": ["5/second"]``)."""
    sandbox = sandbox_of(request)
    changes = await _json(request)
    if not isinstance(changes, dict) or set(changes) - set(RUNTIME_SETTINGS):
        allowed = ", ".join(RUNTIME_SETTINGS)
        raise ApiError(400, f"Settings must be an object with some of: {allowed}.")
    try:
        sandbox.reconfigure(sandbox.config.with_changes(changes))
    except (ConfigError, TypeError) as exc:
        raise ApiError(400, str(exc)) from None
    return json_response(settings_json(sandbox.config))


async def all_depositions(request: Request) -> Response:
    """List every deposition of every user, oldest first, for exactly-once checks."""
    sandbox = sandbox_of(request)
    rows = []
    for dep, _ in reversed(sandbox.storage.listing()):
        files = sandbox.files(dep)
        rows.append(
            {
                "id": dep.id,
                "owner": dep.owner,
                "conceptrecid": str(dep.conceptrecid),
                "state": dep.state,
                "submitted": dep.submitted,
                "title": dep.metadata.get("title", ""),
                "doi": serializers.doi(dep.id) if dep.submitted else None,
                "created": dep.created,
                "files": [
                    {"key": f.key, "size": f.size, "checksum": f"md5:{f.md5}"} for f in files
                ],
            }
        )
    return json_response(rows)


async def get_stats(request: Request) -> Response:
    """Show the answer counts."""
    return json_response(request.app.state.stats.as_json())


async def reset_stats(request: Request) -> Response:
    """Reset the answer counts."""
    request.app.state.stats.reset()
    return Response(status_code=204)


def routes() -> list[BaseRoute]:
    """Return the admin routes."""
    base = ADMIN_PREFIX.rstrip("/")
    return [
        Route(f"{base}/health", health, methods=["GET"]),
        Route(f"{base}/faults", guarded(list_faults), methods=["GET"]),
        Route(f"{base}/faults", guarded(add_faults), methods=["POST"]),
        Route(f"{base}/faults", guarded(clear_faults), methods=["DELETE"]),
        Route(f"{base}/faults/{{rule_id:int}}", guarded(clear_faults), methods=["DELETE"]),
        Route(f"{base}/settings", guarded(get_settings), methods=["GET"]),
        Route(f"{base}/settings", guarded(change_settings), methods=["POST"]),
        Route(f"{base}/depositions", guarded(all_depositions), methods=["GET"]),
        Route(f"{base}/stats", guarded(get_stats), methods=["GET"]),
        Route(f"{base}/stats", guarded(reset_stats), methods=["DELETE"]),
    ]

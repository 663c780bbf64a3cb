"""The JSON API under ``/api/v1``: one module per resource, each with its own router.

Viewers read everything; creating, retrying, cancelling, deleting, editing, resolving and
starting need an admin token. Every error is ``{"error": {"status", "message", "field"}}``
(``web/problems.py``), and each operation documents the ones it may answer.
"""

from typing import Any

from fastapi import APIRouter

from zenodo_export.web.api import alerts, exports, queue, runs, schedules
from zenodo_export.web.api import uploads as uploads  # adds POST /exports/upload to exports
from zenodo_export.web.api.models import ErrorBody

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A bad value; `field` names it."},
    401: {"model": ErrorBody, "description": "No valid bearer token."},
    403: {"model": ErrorBody, "description": "The token's role may not do this."},
    404: {"model": ErrorBody, "description": "No such export, alert, report or schedule."},
    409: {"model": ErrorBody, "description": "Not in this state (published, running...)."},
    422: {"model": ErrorBody, "description": "A parameter or body field of the wrong shape."},
    500: {"model": ErrorBody, "description": "A setting or the config file is wrong."},
    503: {"model": ErrorBody, "description": "The database or files store is unavailable."},
}
"""What any operation may answer besides its success, all in the one error shape."""

router = APIRouter(responses=ERRORS)
for module_router in (
    exports.router,
    alerts.router,
    schedules.router,
    runs.reports,
    runs.snapshots,
    queue.router,
):
    router.include_router(module_router)

__all__ = ["router"]

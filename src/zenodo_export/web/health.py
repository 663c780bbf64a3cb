"""``/healthz`` (the process answers) and ``/readyz`` (the database answers and is migrated)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from zenodo_export.errors import ZenodoExportError
from zenodo_export.web.context import WebState

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    """Answer while the process runs; it reads nothing."""
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and is migrated", response_model=None)
def readyz(web: WebState) -> JSONResponse | dict[str, str]:
    """Answer 200 when the database answers and its schema is the newest; 503 otherwise."""
    try:
        migrated = web.store.is_migrated()
    except ZenodoExportError as exc:
        return JSONResponse({"status": "unavailable", "message": str(exc)}, status_code=503)
    if not migrated:
        message = "the database is not migrated yet: run `zenodo-export migrate`"
        return JSONResponse({"status": "unavailable", "message": message}, status_code=503)
    return {"status": "ok"}

"""Render dashboard pages: one Jinja2 environment, the signed-in caller and CSRF token in every
page, and error pages in the same layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from zenodo_export import __version__
from zenodo_export.errors import ZenodoExportError
from zenodo_export.web.access import Caller, csrf_token, session_caller
from zenodo_export.web.pages.format import FILTERS

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
TEMPLATES.env.globals["version"] = __version__
TEMPLATES.env.filters.update(FILTERS)


def render(
    request: Request,
    template: str,
    *,
    caller: Caller | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` with the caller, the CSRF token and one flash message, if any."""
    flash = request.session.pop("flash", None) if "session" in request.scope else None
    values = {"caller": caller, "csrf": csrf_token(request), "flash": flash, **context}
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error as a page: its status, the one-line message, a way back (and the navigation
    when the visitor is signed in)."""
    caller = _signed_in(request)
    csrf = csrf_token(request) if caller is not None else ""
    values = {"caller": caller, "csrf": csrf, "flash": None, "status": status, "message": message}
    return TEMPLATES.TemplateResponse(request, "error.html", values, status_code=status)


def _signed_in(request: Request) -> Caller | None:
    """The signed-in caller of a request that failed, if the database still answers."""
    if "session" not in request.scope or not request.session.get("token"):
        return None
    try:
        with request.app.state.web.store.transaction() as db:
            return session_caller(request, db)
    except ZenodoExportError:
        return None


def flash(request: Request, message: str) -> None:
    """Keep ``message`` for the next page this session renders (after a redirect)."""
    request.session["flash"] = message

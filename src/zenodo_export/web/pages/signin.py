"""Sign in with a token, sign out; every other page sends a signed-out visitor here."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from zenodo_export.errors import NotAllowed
from zenodo_export.web.access import (
    Caller,
    check_csrf,
    session_caller,
    sign_in,
    sign_out,
    stale_session,
)
from zenodo_export.web.context import Db
from zenodo_export.web.pages.render import flash, render

router = APIRouter()


def page_caller(request: Request, db: Db) -> Caller:
    """The page's signed-in caller; a signed-out visitor is sent to sign in, told why."""
    caller = session_caller(request, db)
    if caller is not None:
        return caller
    if stale_session(request):
        flash(request, "Your session has expired or is no longer valid: sign in again.")
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    raise HTTPException(303, "sign in first", headers={"Location": f"/signin?next={target}"})


def page_admin(caller: Annotated[Caller, Depends(page_caller)]) -> Caller:
    """The page's caller, who must be an admin to act (403 for a viewer)."""
    if not caller.is_admin:
        raise NotAllowed(f"{caller.name} is a viewer: only an admin may do this", signed_in=True)
    return caller


PageCaller = Annotated[Caller, Depends(page_caller)]
PageAdmin = Annotated[Caller, Depends(page_admin)]


def _safe_next(target: str | None) -> str:
    """Only a path of this site (never another host) is a place to go after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, db: Db, next: str | None = None) -> Response:
    """The sign-in form."""
    if stale_session(request) and "flash" not in request.session:
        flash(request, "Your session has expired or is no longer valid: sign in again.")
    caller = session_caller(request, db)
    return render(request, "signin.html", caller=caller, next=_safe_next(next))


@router.post("/signin", response_class=HTMLResponse)
def signin_submit(
    request: Request,
    db: Db,
    token: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the token; start a session and go on, or say what is wrong."""
    check_csrf(request, csrf)
    back = _safe_next(next)
    if not token.strip():
        problem = "Paste a token: `zenodo-export token create NAME` makes one."
        return render(request, "signin.html", caller=None, status=400, problem=problem, next=back)
    caller = sign_in(request, db, token)
    if caller is None:
        problem = "That token is not valid (revoked, or never made)."
        return render(request, "signin.html", caller=None, status=401, problem=problem, next=back)
    flash(request, f"Signed in as {caller.name} ({caller.role}).")
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/signout")
def signout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """End the session."""
    check_csrf(request, csrf)
    sign_out(request)
    flash(request, "Signed out.")
    return RedirectResponse("/signin", status_code=303)

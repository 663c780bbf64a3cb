"""Build the web application: routers, sessions, error shapes, static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from zenodo_export import __version__
from zenodo_export.settings import Settings
from zenodo_export.store import Store
from zenodo_export.store.installation import session_secret
from zenodo_export.web import health, problems
from zenodo_export.web.access import SESSION_COOKIE
from zenodo_export.web.api import router as api_router
from zenodo_export.web.context import Web
from zenodo_export.web.cookies import SecureOverHttps
from zenodo_export.web.lagotto import router as lagotto_router
from zenodo_export.web.metrics import router as metrics_router
from zenodo_export.web.pages import router as pages_router
from zenodo_export.web.timing import ServerTiming

STATIC = Path(__file__).parent / "static"

DESCRIPTION = """The HTTP API of zenodo-export: exports, alerts, schedules, reports, snapshots
and the job queue. Send `Authorization: Bearer <token>` (`zenodo-export token create NAME
--role viewer|admin`); viewers read, admins also act. Errors are
`{"error": {"status", "message", "field"}}`."""


def create_app(settings: Settings, store: Store, *, secure_cookies: bool = True) -> FastAPI:
    """Return the application serving ``store`` (opened and migrated by the caller)."""
    app = FastAPI(
        title="zenodo-export",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.web = Web(settings=settings, store=store, secure_cookies=secure_cookies)
    with store.transaction() as session:
        secret = session_secret(session)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.web_session_hours * 3600),
        same_site="lax",
        https_only=secure_cookies,
    )
    app.add_middleware(SecureOverHttps)  # behind a TLS proxy: Secure cookies all the same
    app.add_middleware(ServerTiming)  # outermost: the whole time, sessions included
    problems.install(app)
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(lagotto_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app

"""The dashboard: server-rendered pages, usable without JavaScript."""

from fastapi import APIRouter

from zenodo_export.web.pages import overview, signin

router = APIRouter(include_in_schema=False)
router.include_router(signin.router)
router.include_router(overview.router)

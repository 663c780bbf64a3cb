"""The dashboard: server-rendered pages, usable without JavaScript."""

from fastapi import APIRouter

from zenodo_export.web.pages import alerts, export, exports, overview, schedules, signin, workers

router = APIRouter(include_in_schema=False)
for page in (signin, overview, exports, export, alerts, schedules, workers):
    router.include_router(page.router)

"""``/metrics`` in Prometheus' text format, read from the database at scrape time."""

from fastapi import APIRouter

router = APIRouter()

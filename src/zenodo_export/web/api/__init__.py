"""The JSON API under ``/api/v1``: one module per resource, each with its own router."""

from fastapi import APIRouter

router = APIRouter()

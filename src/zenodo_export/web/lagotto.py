"""Lagotto's ``GET /api/data_exports`` (v7), unchanged for its clients."""

from fastapi import APIRouter

router = APIRouter()
